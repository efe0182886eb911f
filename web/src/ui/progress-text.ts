/** What the page says about a run in progress: which pass, how far, and about how long is left in it. */
import type { Progress } from 'segment-then-segment/core';

/** Seconds left at the pace so far, once there is a pace to go by (2 s and 1% into the pass). */
export function secondsLeft(done: number, total: number, elapsedS: number): number | undefined {
  if (done <= 0 || elapsedS < 2 || done / total < 0.01) return undefined;
  return ((total - done) * elapsedS) / done;
}

export function formatDuration(s: number): string {
  if (s < 60) return `${Math.max(1, Math.round(s))} s`;
  if (s < 3600) return `${Math.round(s / 60)} min`;
  return `${Math.floor(s / 3600)} h ${Math.round((s % 3600) / 60)} min`;
}

export function progressLine(progress: Pick<Progress, 'stage' | 'done' | 'total'>, elapsedS: number): string {
  const { stage, done, total } = progress;
  const n = (v: number) => v.toLocaleString('en');
  const what = stage === 'rough' ? `Rough pass: tile ${n(done)} of ${n(total)}` : `Fine pass: crop ${n(done)} of ${n(total)}`;
  const left = done < total ? secondsLeft(done, total, elapsedS) : undefined;
  return left === undefined ? `${what}…` : `${what}, about ${formatDuration(left)} left in this pass…`;
}
