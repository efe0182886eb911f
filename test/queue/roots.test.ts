/**
 * A worker's roots (src/queue/roots.ts) without Redis: which paths a job may name, what it is told when it names
 * others, and that a worker without roots does not start. The queue test runs the same refusals through workers.
 */
import assert from 'node:assert/strict';
import { mkdirSync, realpathSync, symlinkSync, writeFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ArgumentError } from '../../src/errors.js';
import type { PredictJob } from '../../src/queue/job.js';
import { JobRefused, type WorkerRoots, confineJob, isUnder, resolveRoots } from '../../src/queue/roots.js';
import { tempDir } from '../support/datasets.js';

/** Rejects with an error whose message matches `pattern`. */
const rejectsWith = (p: Promise<unknown>, pattern: RegExp) =>
  assert.rejects(p, (e: Error) => {
    assert.match(e.message, pattern);
    return true;
  });

describe('worker roots', () => {
  let dir: string;
  let roots: WorkerRoots;
  const options = { batch: 8, tiling: true, dropPolicy: 'reference' as const, resize: 'nearest' as const };
  const job = (o: Partial<PredictJob>): PredictJob => ({ image: join(dir, 'in', 'a.png'), out: join(dir, 'out'), model: 'nuclei', options, ...o });
  before(async () => {
    dir = realpathSync(tempDir('sts-roots-'));
    for (const f of ['in', 'out', 'models/pair/rough', 'models/pair/fine', 'elsewhere']) mkdirSync(join(dir, f), { recursive: true });
    writeFileSync(join(dir, 'in', 'a.png'), 'not read here');
    writeFileSync(join(dir, 'elsewhere', 'b.png'), 'private');
    writeFileSync(join(dir, 'elsewhere', 'weights.bin'), 'private');
    symlinkSync(join(dir, 'elsewhere'), join(dir, 'in', 'door'));
    symlinkSync(join(dir, 'elsewhere', 'weights.bin'), join(dir, 'models', 'pair', 'fine', 'weights.bin'));
    roots = await resolveRoots({ inputs: [join(dir, 'in')], out: [join(dir, 'out')], models: [join(dir, 'models')] });
  });
  after(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('a worker without --inputs or --out does not start, and says what to give', async () => {
    await assert.rejects(resolveRoots({ out: [dir] }), ArgumentError);
    await rejectsWith(resolveRoots({ out: [dir] }), /^--inputs: is missing: a worker reads and writes only under folders you name: give --inputs <dir> \(where the images are\), --out <dir>/);
    await rejectsWith(resolveRoots({ inputs: [dir] }), /^--out: is missing/);
    await rejectsWith(resolveRoots({ inputs: [join(dir, 'nope')], out: [dir] }), /^--inputs: .*nope: no such folder/);
    await rejectsWith(resolveRoots({ inputs: [join(dir, 'in', 'a.png')], out: [dir] }), /^--inputs: .*a\.png is a file, not a folder/);
  });

  it('isUnder: the root itself and what lies below, never a sibling that shares its name as a prefix', () => {
    assert.ok(isUnder('/data/in', '/data/in'));
    assert.ok(isUnder('/data/in/x/y.png', '/data/in'));
    assert.ok(!isUnder('/data/in2/y.png', '/data/in'));
    assert.ok(!isUnder('/data', '/data/in'));
    assert.ok(isUnder('/data/in/..hidden.png', '/data/in'));
  });

  it('takes jobs under its roots and catalog pairs by name', async () => {
    await confineJob(job({}), roots);
    await confineJob(job({ model: { rough: join(dir, 'models', 'pair', 'rough'), fine: join(dir, 'models', 'pair', 'rough') }, out: join(dir, 'out', 'new', 'deeper') }), roots);
  });

  it('refuses, by name, every path outside them: directly, through a symlink, through .., relative, missing', async () => {
    const refused = async (o: Partial<PredictJob>, pattern: RegExp) =>
      assert.rejects(confineJob(job(o), roots), (e: Error) => {
        assert.ok(e instanceof JobRefused, String(e));
        assert.match(e.message, pattern);
        return true;
      });
    await refused({ image: join(dir, 'elsewhere', 'b.png') }, /^the job's image .*elsewhere\/b\.png is outside this worker's --inputs \(.*\/in\); refused, nothing was read or written/);
    await refused({ image: join(dir, 'in', 'door', 'b.png') }, /in\/door\/b\.png \(really .*elsewhere\/b\.png\) is outside/);
    await refused({ image: `${dir}/in/../elsewhere/b.png` }, /is outside this worker's --inputs/);
    await refused({ image: 'in/a.png' }, /^the job's image 'in\/a\.png' is not an absolute path/);
    await refused({ image: join(dir, 'in', 'gone.png') }, /gone\.png: the job's image does not exist on this worker/);
    // Outside the roots, a missing file and an existing one get the same answer: no oracle for what exists there.
    await refused({ image: join(dir, 'elsewhere', 'gone.png') }, /elsewhere\/gone\.png is outside this worker's --inputs/);
    await refused({ out: join(dir, 'elsewhere') }, /^the job's output folder .*elsewhere is outside this worker's --out/);
    await refused({ out: join(dir, 'elsewhere', 'not-yet') }, /not-yet is outside this worker's --out/);
    await refused({ out: `${dir}/out/../elsewhere` }, /out\/\.\.\/elsewhere \(really .*elsewhere\) is outside/);
    await refused({ model: { rough: '/etc', fine: join(dir, 'models', 'pair', 'fine') } }, /^the job's rough model \/etc is outside this worker's --models/);
    // A model folder under --models holding a file that leads out of it.
    await refused({ model: { rough: join(dir, 'models', 'pair', 'rough'), fine: join(dir, 'models', 'pair', 'fine') } }, /fine model's file .*weights\.bin \(really .*elsewhere\/weights\.bin\) is outside this worker's --models/);
    const catalogOnly = await resolveRoots({ inputs: [join(dir, 'in')], out: [join(dir, 'out')] });
    await rejectsWith(confineJob(job({ model: { rough: join(dir, 'models', 'pair', 'rough'), fine: join(dir, 'models', 'pair', 'rough') } }), catalogOnly), /this worker takes catalog pairs only; start it with --models <dir>/);
  });
});
