#!/usr/bin/env node
// Learning curves of fine-tuning (issue 30): for k labelled images of a new centre or stain, a catalog pair
// fine-tuned on them (`sts finetune`) against the same architecture trained from scratch on them with the same
// budget (`sts finetune --scratch`), several random subsets per k, all scored on one fixed held-out part. k = 0 is
// the pair as it is. Each run is an ordinary `sts finetune` into <out>/runs/, so an interrupted curve resumes
// (finished runs are skipped, a started one continues with --resume).
//
//   node scripts/learning-curves.mjs --data ../shared/data/cvc-colondb --model polyp --out docs/results/fine-tuning/cvc-colondb \
//     [--ks 5,10,25,50] [--subsets 3] [--test 0.2] [--methods finetune,scratch] [--rough-scale 2] [--max-crop 64] [--color-jitter 0.1] [--stain-jitter 3] [--epochs n]
//     [--lr r] [--patience n] [--freeze-encoder n] [--tune-on-pool n]
//
// --tune-on-pool n is for choosing fine-tuning settings without looking at the held-out part: each run is scored on
// n images of the pool that no subset draws from (a tuning part), and the held-out part is never scored.
//
// Writes <out>/splits/*.json, <out>/results.json (every run's held-out means) and <out>/curves.md (mean ± std).
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(fileURLToPath(new URL('..', import.meta.url)));
const cli = join(root, 'dist/src/cli/main.js');
const args = process.argv.slice(2);
const arg = (name, fallback) => (args.includes(`--${name}`) ? args[args.indexOf(`--${name}`) + 1] : fallback);
const data = arg('data');
const model = arg('model');
const out = arg('out');
if (!data || !model || !out) {
  console.error('usage: node scripts/learning-curves.mjs --data <folder> --model <pair> --out <folder> [--ks 5,10,25,50] [--subsets 3] [--test 0.2] [--methods finetune,scratch] [--rough-scale f] [--max-crop px] [--color-jitter a] [--epochs n] [--lr r] [--patience n] [--freeze-encoder n] [--tune-on-pool n]');
  process.exit(2);
}
const ks = arg('ks', '5,10,25,50').split(',').map(Number);
const subsets = Number(arg('subsets', '3'));
const testShare = Number(arg('test', '0.2'));
const methods = arg('methods', 'finetune,scratch').split(',');
// Passed to every sts finetune run as given (the same settings for every k, subset and method).
const passed = ['rough-scale', 'max-crop', 'color-jitter', 'stain-jitter', 'epochs', 'lr', 'patience', 'freeze-encoder'];
const extra = passed.flatMap((name) => (arg(name) ? [`--${name}`, arg(name)] : []));

// The ids as sts reads them: the images/ folder's names without extension.
const ids = readdirSync(join(data, 'images')).filter((f) => !f.startsWith('.')).map((f) => f.replace(/\.[^.]+$/, '')).sort();

// A small seeded generator (mulberry32), so the splits are the same on every machine.
function rng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
function shuffle(items, seed) {
  const r = rng(seed);
  const a = [...items];
  for (let i = a.length - 1; i > 0; i--) {
    const j = Math.floor(r() * (i + 1));
    [a[i], a[j]] = [a[j], a[i]];
  }
  return a;
}

// One fixed held-out part for every k and subset.
const all = shuffle(ids, 2026);
const nTest = Math.round(ids.length * testShare);
const heldOut = all.slice(0, nTest).sort();
// With --tune-on-pool the runs are scored on a tuning part taken from the pool instead (same seed for every setting).
const nTune = Number(arg('tune-on-pool', '0'));
const tuning = all.slice(nTest, nTest + nTune).sort();
const test = nTune > 0 ? tuning : heldOut;
const pool = all.slice(nTest + nTune);
mkdirSync(join(out, 'splits'), { recursive: true });
const splitOf = (k, s) => {
  const chosen = shuffle(pool, 1000 * k + s).slice(0, k);
  const nValid = Math.max(1, Math.round(k * 0.2));
  const split = {
    version: 1, seed: 1000 * k + s, policy: { ratios: [], by: 'sample', note: `learning curve: k = ${k} of the pool, subset ${s}; test fixed${nTune > 0 ? ` (a tuning part of ${nTune} from the pool; the held-out part unused)` : ''}` },
    root: data, layout: 'generic',
    train: chosen.slice(nValid).sort(), valid: chosen.slice(0, nValid).sort(), test,
    unused: ids.filter((id) => !test.includes(id) && !chosen.includes(id)),
  };
  const path = join(out, 'splits', `k${k}-s${s}.json`);
  writeFileSync(path, `${JSON.stringify(split, null, 1)}\n`);
  return path;
};

function heldOutMeans(csv) {
  const lines = readFileSync(csv, 'utf8').trim().split('\n');
  const head = lines[0].split(',');
  const rows = lines.slice(1).map((l) => Object.fromEntries(l.split(',').map((v, i) => [head[i], v])));
  const sts = rows.filter((r) => r.method === 'sts');
  const mean = (key) => (sts.length && sts[0][key] !== undefined && sts[0][key] !== '' ? sts.reduce((a, r) => a + Number(r[key]), 0) / sts.length : undefined);
  return { images: sts.length, dsc: mean('dsc'), ap50: mean('ap50') };
}

const resultsPath = join(out, 'results.json');
const results = existsSync(resultsPath) ? JSON.parse(readFileSync(resultsPath, 'utf8')) : [];
const settings = extra.join(' ');
// One curve, one set of settings: runs made with others are not mixed into it.
const other = results.find((r) => r.k > 0 && (r.settings ?? '') !== settings);
if (other) {
  console.error(`${resultsPath} holds runs made with other settings ('${other.settings ?? ''}', these: '${settings}'); give another --out, or move that file away to start this curve over`);
  process.exit(2);
}
const done = (k, s, method) => results.some((r) => r.k === k && r.subset === s && r.method === method);
for (const k of ks) {
  if (k + nTest + nTune > ids.length) {
    console.log(`k = ${k}: more than the ${pool.length} images outside the held-out${nTune > 0 ? ' and tuning parts' : ' part'}; skipped`);
    continue;
  }
  for (let s = 1; s <= subsets; s++) {
    const split = splitOf(k, s);
    for (const method of methods) {
      if (done(k, s, method)) continue;
      const pair = join(out, 'runs', `k${k}-s${s}-${method}`);
      const resume = existsSync(`${pair}.training`) ? ['--resume'] : [];
      const cmd = ['finetune', '--model', model, '--data', data, '--split', split, '--out', pair, ...(method === 'scratch' ? ['--scratch'] : []), ...extra, ...resume];
      console.log(`k = ${k}, subset ${s}, ${method}: sts ${cmd.join(' ')}`);
      const t = Date.now();
      const r = spawnSync(process.execPath, [cli, ...cmd], { stdio: ['ignore', 'inherit', 'inherit'] });
      if (r.status !== 0) {
        console.error(`failed (exit ${r.status}); rerun this script to resume`);
        process.exit(1);
      }
      const after = heldOutMeans(join(`${pair}.training`, 'held-out', 'after', 'per_image.csv'));
      if (!results.some((x) => x.k === 0)) results.push({ k: 0, subset: 0, method: 'pair as it is', ...heldOutMeans(join(`${pair}.training`, 'held-out', 'before', 'per_image.csv')) });
      results.push({ k, subset: s, method, ...after, seconds: Math.round((Date.now() - t) / 1000), settings });
      writeFileSync(resultsPath, `${JSON.stringify(results, null, 1)}\n`);
    }
  }
}

// mean ± std per k and method
const groups = new Map();
for (const r of results) {
  const key = `${r.k}|${r.method}`;
  if (!groups.has(key)) groups.set(key, []);
  groups.get(key).push(r);
}
const stat = (v) => {
  const m = v.reduce((a, b) => a + b, 0) / v.length;
  const sd = v.length > 1 ? Math.sqrt(v.reduce((a, b) => a + (b - m) ** 2, 0) / (v.length - 1)) : 0;
  return `${m.toFixed(3)} ± ${sd.toFixed(3)}`;
};
const lines = [
  `${nTune > 0 ? `Tuning part: ${nTune} images of the pool of ${data} (the held-out part never scored)` : `Held-out part: ${nTest} images of ${data} (fixed)`}, StS on each pair as sts predict runs it. Mean ± std over subsets (n). Every run: sts finetune ${settings || '(defaults)'}.`,
  '',
  '| k | method | n | StS DSC | AP@0.5 | time per run (s, median) |',
  '|---|---|---|---|---|---|',
];
for (const [key, rs] of [...groups].sort((a, b) => a[1][0].k - b[1][0].k || a[0].localeCompare(b[0]))) {
  const ap = rs.filter((r) => r.ap50 !== undefined).map((r) => r.ap50);
  const secs = rs.filter((r) => r.seconds).map((r) => r.seconds).sort((a, b) => a - b);
  lines.push(`| ${rs[0].k} | ${key.split('|')[1]} | ${rs.length} | ${stat(rs.map((r) => r.dsc))} | ${ap.length ? stat(ap) : '-'} | ${secs.length ? secs[secs.length >> 1] : '-'} |`);
}
writeFileSync(join(out, 'curves.md'), `${lines.join('\n')}\n`);
console.log(lines.join('\n'));

// The plot: held-out StS DSC against k, one line per method (mean, with each subset as a point).
const { renderChart } = await import(join(root, 'dist/src/experiments/figures.js'));
// k = 0 (the pair as it is) starts the fine-tuned line only: from scratch there is no network without images.
const points = results.map((r) => ({ k: r.k, method: r.method === 'scratch' ? 'from scratch' : 'fine-tuned', dsc: r.dsc }));
const png = await renderChart({
  $schema: 'https://vega.github.io/schema/vega-lite/v5.json',
  title: `${model} on ${data.split('/').filter(Boolean).pop()}: ${nTune > 0 ? 'tuning-part' : 'held-out'} StS DSC (${test.length} images)`,
  width: 360, height: 220,
  data: { values: points },
  layer: [
    { mark: { type: 'line', point: false }, encoding: { x: { field: 'k', type: 'quantitative', title: 'labelled images k' }, y: { aggregate: 'mean', field: 'dsc', type: 'quantitative', title: 'StS DSC', scale: { domain: [0, 1] } }, color: { field: 'method', type: 'nominal' } } },
    { mark: { type: 'point', filled: true }, encoding: { x: { field: 'k', type: 'quantitative' }, y: { field: 'dsc', type: 'quantitative' }, color: { field: 'method', type: 'nominal' } } },
  ],
});
writeFileSync(join(out, 'curves.png'), png);
console.log(`wrote ${join(out, 'curves.md')} and curves.png`);
