/**
 * Result folders never take a user's folder (issue 28, class 1): each case of the hostile-user campaign that lost
 * data, with sentinel files that must survive `sts predict` byte for byte.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';
import { LEFTOVER_PATTERN, OUTPUT_MARKER, isOurFolder, recoverFolder, writeFolderAtomically } from '../../src/io/atomic-write.js';
import { outputBase } from '../../src/pipeline/predictor.js';
import { FIXTURE_MODELS } from '../support/fixtures.js';

const cli = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));
const pair = ['--rough', join(FIXTURE_MODELS, 'cells-rough'), '--fine', join(FIXTURE_MODELS, 'cells-fine')];

function predict(out: string, ...inputs: string[]) {
  const r = spawnSync(process.execPath, [cli, 'predict', ...pair, '--out', out, ...inputs], { encoding: 'utf8', env: { ...process.env, STS_THREADS: '1' } });
  return { code: r.status, err: r.stderr };
}

async function image(path: string): Promise<void> {
  const pixels = new Uint8Array(48 * 40 * 3).map((_, i) => ((i * 7) % 251) >> (i % 3));
  await sharp(pixels, { raw: { width: 48, height: 40, channels: 3 } }).png().toFile(path);
}

/** Writes a sentinel file and returns a check that it is still there with the same content. */
function sentinel(path: string): () => void {
  const text = `user data ${path}\n`;
  writeFileSync(path, text);
  return () => assert.equal(existsSync(path) ? readFileSync(path, 'utf8') : 'missing', text, `${path} must survive`);
}

const temp = (name: string) => mkdtempSync(join(tmpdir(), `sts-${name}-`));

describe('result folders never take a user folder', () => {
  it("the Kaggle layout (stage1/<id>/images/<id>.png, --out stage1) keeps the image's own folder", async () => {
    const stage1 = join(temp('kaggle'), 'stage1');
    const id = '0a7d30b252359a10fd298b638b90cb9ada3acced4e0c0e5a3692013f432ee4e9';
    mkdirSync(join(stage1, id, 'images'), { recursive: true });
    mkdirSync(join(stage1, id, 'masks'));
    await image(join(stage1, id, 'images', `${id}.png`));
    const kept = [sentinel(join(stage1, id, 'notes.txt')), sentinel(join(stage1, id, 'masks', 'm1.png'))];
    const imageBytes = readFileSync(join(stage1, id, 'images', `${id}.png`));
    const r = predict(stage1, join(stage1, id, 'images'));
    assert.equal(r.code, 0, r.err);
    for (const check of kept) check();
    assert.deepEqual(readFileSync(join(stage1, id, 'images', `${id}.png`)), imageBytes);
    assert.ok(existsSync(join(stage1, `${id}-2`, 'summary.json')), r.err);
    assert.deepEqual(readdirSync(stage1).sort(), [id, `${id}-2`]);
  });

  it("an image named '...png' or '..png' writes inside --out, never to --out itself or its parent", async () => {
    const home = join(temp('dots'), 'home');
    const out = join(home, 'out');
    mkdirSync(out, { recursive: true });
    const keptHome = sentinel(join(home, 'thesis.txt'));
    const keptOut = sentinel(join(out, 'earlier-result.txt'));
    const inputs = join(temp('dots-in'), 'in');
    mkdirSync(inputs);
    await image(join(inputs, '...png'));
    await image(join(inputs, '..png'));
    const r = predict(out, join(inputs, '...png'), join(inputs, '..png'));
    assert.equal(r.code, 0, r.err);
    keptHome();
    keptOut();
    assert.deepEqual(readdirSync(out).sort(), ['_.', '_..', 'earlier-result.txt']);
    assert.deepEqual(outputBase('x/.png'), '_.png');
    assert.deepEqual(outputBase('x/a.ome.tif'), 'a');
  });

  it("folders in --out that merely start like an interrupted write's leftovers (scan.old-backup) are kept", async () => {
    const out = temp('lookalikes');
    const kept = ['scan.old-backup', 'scan.tmp-notes', 'scan.new-version', 'scan.sts-old-0123456789abcdef'].map((name) => {
      mkdirSync(join(out, name));
      return sentinel(join(out, name, 'keep.txt'));
    });
    const inputs = temp('lookalikes-in');
    await image(join(inputs, 'scan.png'));
    const r = predict(out, join(inputs, 'scan.png'));
    assert.equal(r.code, 0, r.err);
    for (const check of kept) check();
    assert.ok(await isOurFolder(join(out, 'scan')));
    // a rerun skips the finished result; the look-alikes are still there
    const again = predict(out, join(inputs, 'scan.png'));
    assert.match(again.err, /scan\.png: done before/);
    for (const check of kept) check();
  });
});

describe('atomic folders', () => {
  it('refuse to replace a folder sts did not write, and replace one it did', async () => {
    const root = temp('atomic');
    const user = join(root, 'results');
    mkdirSync(user);
    const kept = sentinel(join(user, 'mine.txt'));
    await assert.rejects(
      writeFolderAtomically(user, async (tmp) => writeFileSync(join(tmp, 'a.txt'), 'a')),
      /results exists and was not written by sts \(it has no \.sts-output file\): it is left as it is; move it away or choose another output folder/,
    );
    kept();
    assert.deepEqual(readdirSync(root), ['results'], 'no temporary folder left');
    const ours = join(root, 'ours');
    await writeFolderAtomically(ours, async (tmp) => writeFileSync(join(tmp, 'a.txt'), 'first'));
    await writeFolderAtomically(ours, async (tmp) => writeFileSync(join(tmp, 'a.txt'), 'second'));
    assert.equal(readFileSync(join(ours, 'a.txt'), 'utf8'), 'second');
    assert.deepEqual(readdirSync(ours).sort(), [OUTPUT_MARKER, 'a.txt']);
  });

  it('recovery touches only marked leftovers with the exact name pattern', async () => {
    const root = temp('recover');
    const dir = join(root, 'r');
    await writeFolderAtomically(dir, async (tmp) => writeFileSync(join(tmp, 'v'), '1'));
    // ours: a complete replacement that was never renamed into place, an unfinished one, and an empty one
    await writeFolderAtomically(join(root, 'donor'), async (tmp) => writeFileSync(join(tmp, 'v'), '2'));
    const { renameSync } = await import('node:fs');
    renameSync(join(root, 'donor'), join(root, 'r.sts-new-00000000000000aa'));
    mkdirSync(join(root, 'r.sts-tmp-00000000000000bb'));
    writeFileSync(join(root, 'r.sts-tmp-00000000000000bb', OUTPUT_MARKER), '');
    mkdirSync(join(root, 'r.sts-tmp-00000000000000cc'));
    // not ours: no marker, or not the exact pattern
    mkdirSync(join(root, 'r.sts-old-00000000000000dd'));
    const a = sentinel(join(root, 'r.sts-old-00000000000000dd', 'keep'));
    mkdirSync(join(root, 'r.sts-new-backup'));
    writeFileSync(join(root, 'r.sts-new-backup', OUTPUT_MARKER), '');
    const b = sentinel(join(root, 'r.sts-new-backup', 'keep'));
    const done = await recoverFolder(dir);
    assert.equal(done.length, 3, done.join('\n'));
    assert.equal(readFileSync(join(dir, 'v'), 'utf8'), '2');
    a();
    b();
    assert.deepEqual(readdirSync(root).filter((e) => LEFTOVER_PATTERN.test(e)), ['r.sts-old-00000000000000dd']);
  });
});
