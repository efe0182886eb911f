/**
 * `sts train` under kills, as issue 18 found it failing: a SIGKILLed launcher must not leave its trainer running,
 * a second trainer on the same run folder is refused, a kill between the two renames that replace last/ loses
 * nothing, and --resume without a checkpoint never starts over on top of best/. Real child processes, real kills.
 */
import assert from 'node:assert/strict';
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { makeImagesMasks, tempDir } from '../support/datasets.js';
import { until } from '../support/until.js';
import { LEFTOVER_PATTERN } from '../../src/io/atomic-write.js';

const cli = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));
const env = { ...process.env, STS_THREADS: '1' };
const trainArgs = (data: string, out: string, epochs: number) =>
  ['train', '--data', data, '--size', '16', '--features', '2', '--epochs', String(epochs), '--batch', '4', '--out', out];

function startTrain(args: string[], extraEnv: Record<string, string> = {}): ChildProcess {
  return spawn(process.execPath, [cli, ...args], { env: { ...env, ...extraEnv }, stdio: ['ignore', 'ignore', 'pipe'] });
}

function runTrain(args: string[]) {
  const r = spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8', env });
  return { code: r.status, err: r.stderr };
}

const logEpochs = (out: string) =>
  existsSync(join(out, 'log.jsonl'))
    ? readFileSync(join(out, 'log.jsonl'), 'utf8').trim().split('\n').filter(Boolean).map((l) => (JSON.parse(l) as { epoch: number }).epoch)
    : [];
const trainerPid = (out: string) => {
  try {
    return (JSON.parse(readFileSync(join(out, 'lock.json'), 'utf8')) as { pid: number }).pid;
  } catch {
    return undefined;
  }
};
const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};
const leftovers = (out: string) => readdirSync(out).filter((e) => LEFTOVER_PATTERN.test(e));

describe('sts train under kills', () => {
  let root: string;
  let data: string;
  before(async () => {
    root = tempDir('sts-crash-');
    data = join(root, 'data');
    await makeImagesMasks(data, Array.from({ length: 20 }, (_, i) => `s${i}`));
  });
  after(() => rm(root, { recursive: true, force: true }));

  it('refuses a second trainer on a run folder; a SIGKILLed launcher takes its trainer with it; --resume then finishes once', async () => {
    const out = join(root, 'orphan');
    const first = startTrain(trainArgs(data, out, 10_000));
    const pid = await until('the trainer to lock its run folder', () => trainerPid(out));
    await until('a first epoch', () => logEpochs(out).length >= 1);
    const second = runTrain([...trainArgs(data, out, 10_000), '--resume']);
    assert.equal(second.code, 1);
    assert.match(second.err, new RegExp(`^sts: error: .*orphan is being trained by another process \\(PID ${pid},.*\\); wait for it to finish, or stop it \\(kill ${pid}\\)`, 'm'));
    first.kill('SIGKILL');
    // The launcher is gone without passing anything on; the trainer notices and stops on its own.
    await until('the orphaned trainer to stop', () => !alive(pid), 15_000);
    const done = logEpochs(out).at(-1)!;
    const epochs = done + 3;
    const resumed = runTrain([...trainArgs(data, out, epochs), '--resume']);
    assert.equal(resumed.code, 0, resumed.err);
    assert.deepEqual(logEpochs(out), Array.from({ length: epochs }, (_, i) => i + 1), 'every epoch once, in order');
    assert.deepEqual(leftovers(out), []);
    assert.ok(!existsSync(join(out, 'lock.json')), 'the lock is released');
  });

  it('a kill between the two renames that replace last/ loses nothing: --resume completes the replacement', async () => {
    const out = join(root, 'renames');
    const pauseFile = join(root, 'paused-at');
    const child = startTrain(trainArgs(data, out, 4), { STS_TEST_PAUSE: 'between-renames', STS_TEST_PAUSE_NAME: 'last', STS_TEST_PAUSE_FILE: pauseFile });
    await until('the pause between the renames of last/', () => existsSync(pauseFile));
    const pid = trainerPid(out)!;
    process.kill(pid, 'SIGKILL');
    child.kill('SIGKILL');
    // A kill is delivered, not done, when kill() returns: until the trainer is gone its lock still names a live PID,
    // and --resume rightly refuses a folder a live trainer holds.
    await until('the killed trainer to exit', () => !alive(pid), 15_000);
    // The state issue 18 found: last/ moved aside, the complete new checkpoint not yet in place.
    assert.ok(!existsSync(join(out, 'last')));
    assert.ok(readdirSync(out).some((e) => e.startsWith('last.sts-new-')) && readdirSync(out).some((e) => e.startsWith('last.sts-old-')));
    const bestBefore = statSync(join(out, 'best', 'weights.bin')).mtimeMs;
    const resumed = runTrain([...trainArgs(data, out, 4), '--resume']);
    assert.equal(resumed.code, 0, resumed.err);
    assert.match(resumed.err, /completed the interrupted replacement of .*last/);
    assert.deepEqual(logEpochs(out), [1, 2, 3, 4]);
    assert.deepEqual(leftovers(out), []);
    assert.ok(existsSync(join(out, 'best', 'weights.bin')) && statSync(join(out, 'best', 'weights.bin')).mtimeMs >= bestBefore);
  });

  it('--resume without a complete checkpoint is an error that leaves best/ as it was; SIGTERM stops like Ctrl-C', async () => {
    const out = join(root, 'no-last');
    const child = startTrain(trainArgs(data, out, 50));
    await until('two epochs', () => logEpochs(out).length >= 2);
    child.kill('SIGTERM');
    const code = await new Promise<number | null>((r) => child.on('exit', (c) => r(c)));
    assert.equal(code, 1);
    await until('the trainer to stop', () => !existsSync(join(out, 'lock.json')), 15_000);
    assert.deepEqual(leftovers(out), [], 'SIGTERM left no temporary folders');
    await rm(join(out, 'last'), { recursive: true });
    const best = readFileSync(join(out, 'best', 'weights.bin'));
    const r = runTrain([...trainArgs(data, out, 50), '--resume']);
    assert.equal(r.code, 1);
    assert.match(r.err, /--resume found no complete checkpoint \(no last\/, but .*best.*\); nothing was changed and best\/ is kept/);
    assert.ok(readFileSync(join(out, 'best', 'weights.bin')).equals(best));
  });

  it('a kill in epoch 1 after best/ is written but before the first checkpoint: --resume starts over, nothing else was lost', async () => {
    const out = join(root, 'first-epoch');
    assert.equal(runTrain(trainArgs(data, out, 1)).code, 0);
    // What the kill leaves: epoch 1's best/ and config.json, no last/, no logged epoch.
    await rm(join(out, 'last'), { recursive: true });
    await rm(join(out, 'log.jsonl'));
    const r = runTrain([...trainArgs(data, out, 2), '--resume']);
    assert.equal(r.code, 0, r.err);
    assert.deepEqual(logEpochs(out), [1, 2]);
    // A best/ of a later epoch with no log is not the first epoch's: that folder is still refused.
    const model = join(out, 'best', 'model.json');
    const json = JSON.parse(readFileSync(model, 'utf8')) as { userDefinedMetadata: { epoch: number } };
    json.userDefinedMetadata.epoch = 2;
    writeFileSync(model, JSON.stringify(json));
    await rm(join(out, 'last'), { recursive: true });
    await rm(join(out, 'log.jsonl'));
    assert.equal(runTrain([...trainArgs(data, out, 3), '--resume']).code, 1);
  });
});
