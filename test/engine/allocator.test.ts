import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
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
});
