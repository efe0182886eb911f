/**
 * The objects table, virtualised: a scrolling box as tall as all rows, with only the rows in view in the page
 * (visible-rows.ts), drawn from the compact rows the worker sends (objects/objects.ts). A click on a row shows
 * that object in the viewer.
 */
import type { Box } from 'segment-then-segment/core';
import { ROW_FIELDS } from '../objects/objects.js';
import { visibleRows } from './visible-rows.js';

const ROW_HEIGHT = 22;
const COLUMNS = ['#', 'area px', 'centre x', 'centre y'];

export class ObjectTable {
  private rows: Float64Array | undefined;
  private readonly body: HTMLElement;
  private readonly spacer: HTMLElement;
  private frame = 0;

  constructor(
    private readonly scroller: HTMLElement,
    private readonly onPick: (box: Box) => void,
  ) {
    scroller.replaceChildren();
    scroller.classList.add('virtual-table');
    const head = document.createElement('div');
    head.className = 'row head';
    for (const c of COLUMNS) head.append(Object.assign(document.createElement('span'), { textContent: c }));
    this.spacer = document.createElement('div');
    this.spacer.className = 'spacer';
    this.body = document.createElement('div');
    this.body.className = 'rows';
    this.spacer.append(this.body);
    scroller.append(head, this.spacer);
    scroller.addEventListener('scroll', () => this.schedule());
    this.body.addEventListener('click', (event) => {
      const row = (event.target as HTMLElement).closest<HTMLElement>('.row');
      const i = Number(row?.dataset.index);
      if (this.rows && Number.isInteger(i)) {
        const r = this.rows.subarray(i * ROW_FIELDS, (i + 1) * ROW_FIELDS);
        this.onPick({ left: r[2], top: r[3], width: r[4], height: r[5] });
      }
    });
  }

  show(rows: Float64Array | undefined): void {
    this.rows = rows;
    this.scroller.scrollTop = 0;
    this.spacer.style.height = `${(rows ? rows.length / ROW_FIELDS : 0) * ROW_HEIGHT}px`;
    this.render();
  }

  private schedule(): void {
    if (this.frame) return;
    this.frame = requestAnimationFrame(() => {
      this.frame = 0;
      this.render();
    });
  }

  private render(): void {
    const rows = this.rows;
    const count = rows ? rows.length / ROW_FIELDS : 0;
    const head = ROW_HEIGHT;
    const { first, last } = visibleRows(Math.max(0, this.scroller.scrollTop - head), this.scroller.clientHeight, ROW_HEIGHT, count);
    this.body.style.transform = `translateY(${first * ROW_HEIGHT}px)`;
    const children: HTMLElement[] = [];
    for (let i = first; i < last && rows; i++) {
      const r = rows.subarray(i * ROW_FIELDS, (i + 1) * ROW_FIELDS);
      const row = document.createElement('div');
      row.className = 'row';
      row.dataset.index = String(i);
      for (const v of [r[0], r[1], r[6].toFixed(1), r[7].toFixed(1)]) row.append(Object.assign(document.createElement('span'), { textContent: String(v) }));
      children.push(row);
    }
    this.body.replaceChildren(...children);
  }
}
