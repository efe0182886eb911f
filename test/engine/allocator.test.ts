import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';
import { jemallocEnv } from '../../src/engine/allocator.js';

const lib = '/usr/lib/x86_64-linux-gnu/libjemalloc.so.2';
const installed = (p: string) => p === lib;

describe('allocator', () => {
  it('preloads an installed jemalloc on Linux, ahead of what LD_PRELOAD held', () => {
    assert.deepEqual(jemallocEnv({ A: '1' }, 'linux', installed), { A: '1', LD_PRELOAD: lib });
    assert.equal(jemallocEnv({ LD_PRELOAD: '/x.so' }, 'linux', installed)?.LD_PRELOAD, `${lib}:/x.so`);
  });

  it('leaves the process alone when opted out, already preloaded, not Linux or not installed', () => {
    assert.equal(jemallocEnv({ STS_ALLOCATOR: 'system' }, 'linux', installed), undefined);
    assert.equal(jemallocEnv({ LD_PRELOAD: lib }, 'linux', installed), undefined);
    assert.equal(jemallocEnv({}, 'darwin', installed), undefined);
    assert.equal(jemallocEnv({}, 'linux', () => false), undefined);
  });

  it("the sts command passes its program's exit code through the rerun", () => {
    const cli = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));
    const r = spawnSync(process.execPath, [cli, 'no-such-command'], { encoding: 'utf8' });
    assert.equal(r.status, 1);
    assert.match(r.stderr, /unknown command 'no-such-command'/);
  });

  it('Ctrl-C sent to the sts process stops the rerun work cleanly, once', { timeout: 120_000 }, async () => {
    const cli = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));
    const train = fileURLToPath(new URL('../../../assets/demo/train', import.meta.url));
    const out = mkdtempSync(join(tmpdir(), 'sts-sigint-'));
    const child = spawn(process.execPath, [cli, 'train', '--data', train, '--size', '16', '--features', '2', '--epochs', '500', '--out', out], {
      env: { ...process.env, STS_THREADS: '1' },
    });
    let err = '';
    child.stderr.on('data', (d: Buffer) => {
      err += d.toString();
    });
    // Wait until training runs, then interrupt as a terminal or a process manager would: SIGINT to the pid started.
    while (!/epoch 1\//.test(err)) await new Promise((r) => setTimeout(r, 100));
    child.kill('SIGINT');
    const code = await new Promise<number | null>((resolve) => child.on('exit', (c) => resolve(c)));
    assert.equal(code, 1, err);
    assert.match(err, /interrupted; the last completed epoch is saved/);
  });
});
