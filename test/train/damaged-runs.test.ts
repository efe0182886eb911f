/**
 * Runs that cannot go on, named instead of "unexpected error": a state.json with wrong types, a truncated
 * optimizer.bin, a learning rate that makes the network diverge, and a disk that fills up during a checkpoint (a small tmpfs, where this machine allows mounting
 * one): the error names the file and what to do, nothing half-written is left, and the last complete checkpoint
 * stays usable.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readFileSync, readdirSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { makeImagesMasks, tempDir } from '../support/datasets.js';
import { LEFTOVER_PATTERN } from '../../src/io/atomic-write.js';

const cli = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));
const train = (data: string, out: string, epochs: number, ...more: string[]) => {
  const r = spawnSync(process.execPath, [cli, 'train', '--data', data, '--size', '16', '--features', '2', '--epochs', String(epochs), '--batch', '4', '--out', out, ...more], {
    encoding: 'utf8',
    env: { ...process.env, STS_THREADS: '1' },
  });
  return { code: r.status, err: r.stderr };
};
const leftovers = (out: string) => readdirSync(out).filter((e) => LEFTOVER_PATTERN.test(e));

describe('sts train with a damaged run or a full disk', () => {
  let root: string;
  let data: string;
  let run: string;
  before(async () => {
    root = tempDir('sts-damaged-');
    data = join(root, 'data');
    await makeImagesMasks(data, Array.from({ length: 12 }, (_, i) => `s${i}`));
    run = join(root, 'run');
    const r = train(data, run, 1);
    assert.equal(r.code, 0, r.err);
  });
  after(() => rm(root, { recursive: true, force: true }));

  it('names a state.json with wrong types and a truncated optimizer.bin, and changes nothing', () => {
    const copy = join(root, 'state-run');
    cpSync(run, copy, { recursive: true });
    const stateFile = join(copy, 'last', 'state.json');
    const state = JSON.parse(readFileSync(stateFile, 'utf8'));
    for (const [patch, message] of [
      [{ epoch: 'one' }, /"epoch" is "one", not a whole number >= 1/],
      [{ bestDsc: null }, /"bestDsc" is null, not a DSC between 0 and 1/],
      [{ bestEpoch: 7 }, /"bestEpoch" is 7, not an epoch from 1 to 1/],
    ] as const) {
      writeFileSync(stateFile, JSON.stringify({ ...state, ...patch }));
      const r = train(data, copy, 2, '--resume');
      assert.equal(r.code, 1, r.err);
      assert.match(r.err, new RegExp(`${stateFile.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}: ${message.source}; the run in .* cannot be resumed`));
      assert.doesNotMatch(r.err, /unexpected error/);
    }
    writeFileSync(stateFile, JSON.stringify(state));
    const bin = join(copy, 'last', 'optimizer.bin');
    truncateSync(bin, statSync(bin).size - 4);
    const r = train(data, copy, 2, '--resume');
    assert.equal(r.code, 1);
    assert.match(r.err, /optimizer\.bin: holds \d+ bytes but optimizer\.json describes \d+; the run .* cannot be resumed/);
    assert.equal(JSON.parse(readFileSync(stateFile, 'utf8')).epoch, 1, 'the checkpoint is untouched');
  });

  it('--lr 1e9 is named as a divergence with what to do, not as a NaN deep in the metrics', () => {
    const r = train(data, join(root, 'diverged'), 3, '--lr', '1e9');
    assert.equal(r.code, 1, r.err);
    assert.match(r.err, /training diverged in epoch 1 \(the (loss|network's outputs) became NaN\); lower --lr \(now 1000000000\), e\.g\. to 100000000, and train again in a new --out/);
    assert.doesNotMatch(r.err, /value at index|unexpected error/);
  });

  it('a disk that fills during a checkpoint: the error names it, nothing half-written, the last checkpoint resumes', async (t) => {
    const mnt = join(root, 'tiny-fs');
    mkdirSync(mnt);
    const mounted = spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=4m', 'tmpfs', mnt]).status === 0;
    if (!mounted) return t.skip('cannot mount a small tmpfs here (needs root with CAP_SYS_ADMIN)');
    try {
      const out = join(mnt, 'run');
      cpSync(run, out, { recursive: true });
      // Leave less free space than one checkpoint needs.
      const free = () => Number(spawnSync('df', ['--output=avail', '-B1', mnt], { encoding: 'utf8' }).stdout.trim().split('\n').pop());
      const checkpoint = readdirSync(join(out, 'last')).reduce((n, f) => n + statSync(join(out, 'last', f)).size, 0);
      writeFileSync(join(mnt, 'filler'), new Uint8Array(Math.max(0, free() - Math.floor(checkpoint / 3))));
      const r = train(data, out, 3, '--resume');
      assert.equal(r.code, 1, r.err);
      assert.match(r.err, /cannot write .*(last|best).* \(ENOSPC: no space left on the device\); nothing half-written was left/);
      assert.doesNotMatch(r.err, /unexpected error/);
      assert.deepEqual(leftovers(out), []);
      assert.equal(JSON.parse(readFileSync(join(out, 'last', 'state.json'), 'utf8')).epoch, 1);
      // With space again, the run resumes from that checkpoint.
      await rm(join(mnt, 'filler'));
      const again = train(data, out, 2, '--resume');
      assert.equal(again.code, 0, again.err);
      assert.equal(JSON.parse(readFileSync(join(out, 'last', 'state.json'), 'utf8')).epoch, 2);
      assert.ok(existsSync(join(out, 'best', 'model.json')));
    } finally {
      spawnSync('umount', [mnt]);
    }
  });
});
