/**
 * Crash safety under kills at random moments: a training run SIGKILLed at 20 random points (start-up, mid-epoch,
 * validation, any step of a checkpoint) and resumed each time ends with the best/ and last/ of an uninterrupted run,
 * byte for byte, every epoch logged once, and no temporary folders. The delays come from a fixed seed and are printed with
 * any failure.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { seededRng, uniform } from '../../src/random.js';
import { makeImagesMasks, tempDir } from '../support/datasets.js';
import { LEFTOVER_PATTERN } from '../../src/io/atomic-write.js';

const cli = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));
// One process (no jemalloc re-exec), so that the SIGKILL hits the trainer itself; the cpu engine, on which a
// resumed run is bit-identical to an uninterrupted one (on torch it differs at float rounding: docs/reliability.md),
// so that whatever the kills break shows as a difference.
const env = { ...process.env, STS_THREADS: '1', STS_ALLOCATOR: 'system', STS_BACKEND: 'cpu' };
const EPOCHS = 20;
const args = (data: string, out: string) => ['train', '--data', data, '--size', '16', '--features', '2', '--epochs', String(EPOCHS), '--batch', '4', '--seed', '5', '--out', out, '--resume'];
const logEpochs = (out: string) =>
  existsSync(join(out, 'log.jsonl')) ? readFileSync(join(out, 'log.jsonl'), 'utf8').trim().split('\n').filter(Boolean).map((l) => (JSON.parse(l) as { epoch: number }).epoch) : [];

describe('sts train killed at 20 random moments', () => {
  let root: string;
  let data: string;
  before(async () => {
    root = tempDir('sts-random-kills-');
    data = join(root, 'data');
    await makeImagesMasks(data, Array.from({ length: 12 }, (_, i) => `s${i}`));
  });
  after(() => (process.env.STS_KEEP_TEST_DIR ? undefined : rm(root, { recursive: true, force: true })));

  it('resumes to the uninterrupted run byte for byte, every epoch logged once, nothing left over', async () => {
    const reference = join(root, 'reference');
    // The uninterrupted run, timed: from training's start (its ' unet at S = ' line) to its first epoch logged,
    // which includes the first epoch's warm-up, so that kills after the start line land anywhere in the next epochs.
    const firstEpochMs = await new Promise<number>((done, fail) => {
      const child = spawn(process.execPath, [cli, ...args(data, reference)], { env, stdio: ['ignore', 'ignore', 'pipe'] });
      let err = '';
      let started = 0;
      let first = 0;
      const poll = setInterval(() => {
        if (started && !first && logEpochs(reference).length > 0) first = performance.now() - started;
      }, 10);
      child.stderr!.on('data', (d: Buffer) => {
        err += d.toString();
        if (!started && / unet at S = /.test(err)) started = performance.now();
      });
      child.on('exit', (code) => {
        clearInterval(poll);
        if (code === 0 && first) done(first);
        else fail(new Error(`the uninterrupted run failed (${code}): ${err.slice(-800)}`));
      });
    });
    const out = join(root, 'killed');
    const rng = seededRng(2023);
    const kills: { at: string; ms: number; epochsBefore: number; code: number | null }[] = [];
    for (let k = 0; k < 20; k++) {
      const epochsBefore = logEpochs(out).length;
      const child = spawn(process.execPath, [cli, ...args(data, out)], { env, stdio: ['ignore', 'ignore', 'pipe'] });
      let err = '';
      // Every fifth kill lands in start-up (dataset check, split, model building, resuming); the others once
      // training runs, anywhere in the next epoch or two: steps, validation, best/ and last/ being written.
      const inStartUp = k % 5 === 0;
      const ms = Math.round(uniform(rng, inStartUp ? 50 : 0, inStartUp ? 2500 : 1.5 * firstEpochMs));
      let timer: NodeJS.Timeout | undefined;
      if (inStartUp) timer = setTimeout(() => child.kill('SIGKILL'), ms);
      child.stderr!.on('data', (d: Buffer) => {
        err += d.toString();
        if (!inStartUp && !timer && / unet at S = /.test(err)) timer = setTimeout(() => child.kill('SIGKILL'), ms);
      });
      const code = await new Promise<number | null>((done) => child.on('exit', (c) => done(c)));
      clearTimeout(timer);
      kills.push({ at: inStartUp ? 'start-up' : 'training', ms, epochsBefore, code });
      assert.ok(code === null || code === 0, `start ${k + 1} (kill at ${ms} ms) failed with ${code}: ${err.slice(-800)}`);
    }
    const story = JSON.stringify(kills);
    const last = spawnSync(process.execPath, [cli, ...args(data, out)], { encoding: 'utf8', env });
    assert.equal(last.status, 0, `${last.stderr}\nkills: ${story}`);
    assert.ok(kills.filter((k) => k.code === null).length >= 15, `the kills landed before the run finished: ${story}`);
    assert.ok(kills.some((k) => k.epochsBefore > 0 && k.epochsBefore < EPOCHS - 1), `kills landed in the middle of the run: ${story}`);
    assert.deepEqual(logEpochs(out), Array.from({ length: EPOCHS }, (_, i) => i + 1), `every epoch once; kills: ${story}`);
    assert.deepEqual(readdirSync(out).filter((e) => LEFTOVER_PATTERN.test(e) || e === 'lock.json'), [], `no leftovers; kills: ${story}`);
    for (const folder of ['best', 'last']) {
      for (const file of ['weights.bin', 'model.json']) {
        assert.ok(readFileSync(join(out, folder, file)).equals(readFileSync(join(reference, folder, file))), `${folder}/${file} differs from the uninterrupted run's; kills: ${story}`);
      }
    }
    assert.ok(readFileSync(join(out, 'last', 'optimizer.bin')).equals(readFileSync(join(reference, 'last', 'optimizer.bin'))), 'last/optimizer.bin');
  });
});
