/**
 * `npm run bench:engine`: the reference U-Net (32 initial features, 7,763,041 parameters for 3 channels; see
 * ../shared/bench/pytorch_unet.py) trained with Adam and batch soft Dice, on torch, on wasm (few steps: it is
 * slow) and in PyTorch, at 64 x 64 and 128 x 128, batch 16. Prints a table; writes bench/results/engine.json
 * (engine-partial.json when --engines, --sizes, --batch or --wasm-sizes narrow the run).
 * Our inference runs the model as the pipeline does, with batch norm folded into the convolutions
 * (models/fold-batch-norm.ts); PyTorch's runs its model in eval mode, unfolded, as the reference does.
 *
 * `torch-bf16` is torch with bfloat16 inference (STS_INFERENCE_PRECISION=bfloat16; see inference-precision.ts; training is float32
 * either way, so it is not timed again). Its effect on accuracy is measured on trained networks with `sts evaluate`
 * (docs/results/README.md): on this benchmark's untrained network and 0-255 inputs the logits are huge and any
 * rounding moves the sigmoid, which says nothing about segmentation.
 *
 * `onnxruntime` is inference of the same weights exported to ONNX (sts export) in onnxruntime-node on the CPU.
 *
 * Each engine runs in its own process (one backend per process). Options: --sizes 64,128 --batch 16
 * --steps 5 --wasm-steps 1 --wasm-sizes 64 --engines torch,torch-bf16,onnxruntime,wasm,pytorch --threads N (default all cores).
 * A minimal U-Net is built here with tfjs-layers; the project's models live elsewhere.
 */
import { spawnSync } from 'node:child_process';
import { jemallocEnv, mallocInUse } from '../src/engine/allocator.js';
import { mkdirSync, writeFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

interface Row {
  memory?: Record<string, number | string>; engine: string; size: number; batch: number; threads: number;
  /** null where training was not timed (torch-bf16: training never runs in bfloat16). */
  train_img_per_s: number | null; infer_img_per_s: number; params?: number; train_ms_per_step?: number; infer_ms_per_batch?: number;
}

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '../..');
const argv = process.argv.slice(2);
const opt = (name: string, def: string) => (argv.includes(`--${name}`) ? argv[argv.indexOf(`--${name}`) + 1] : def);

async function child(engine: string, size: number, batch: number, steps: number, threads: number): Promise<Row> {
  if (engine === 'onnxruntime') return onnxRuntimeRow(size, batch, steps, threads);
  const { initEngine, tf } = await import('../src/engine/backend.js');
  const bf16 = engine === 'torch-bf16';
  await initEngine({ backend: bf16 ? 'torch' : engine as 'torch' | 'wasm', threads, warn: null, inferencePrecision: bf16 ? 'bfloat16' : 'float32' });
  const { createModel, trainableParameterCount } = await import('../src/models/index.js');
  const { softDiceLoss } = await import('../src/train/loss.js');
  const model = createModel({ name: 'unet', size, channels: 3 }, { seed: 2022 });
  const params = trainableParameterCount(model);
  const xs = tf.mul(tf.randomUniform([batch, size, size, 3], 0, 1, 'float32', 1), 255);
  const ys = tf.cast(tf.greater(tf.randomUniform([batch, size, size, 1], 0, 1, 'float32', 2), 0.7), 'float32');
  const adam = tf.train.adam(1e-3);
  const step = () => {
    const loss = adam.minimize(() => softDiceLoss(ys, model.apply(xs, { training: true }) as import('@tensorflow/tfjs').Tensor), true);
    loss!.dataSync();
    loss!.dispose();
  };
  if (argv.includes('--memory')) return memoryRun(step, tf, { engine, size, batch, threads, params, steps });
  // Inference runs the model as the pipeline does (modelNetwork): a copy with batch norm folded into the convolutions.
  const { foldBatchNorm } = await import('../src/models/fold-batch-norm.js');
  const infer = async () => {
    const { model: folded } = await foldBatchNorm(model);
    return () => {
      const y = tf.tidy(() => folded.apply(xs, { training: false }) as import('@tensorflow/tfjs').Tensor);
      y.dataSync();
      y.dispose();
    };
  };
  const median = (fn: () => void, n: number) => {
    fn(); // warm-up
    const ts: number[] = [];
    for (let i = 0; i < n; i++) {
      const t = performance.now();
      fn();
      ts.push(performance.now() - t);
    }
    ts.sort((a, b) => a - b);
    return ts[Math.floor(ts.length / 2)];
  };
  // torch-bf16 times inference only: its training is torch's. median's warm-up call is each filter's float32 first use.
  const trainMs = bf16 ? null : median(step, steps);
  // Inference is cheap next to a training step: more samples for a steadier median (wasm: a few).
  const inferMs = median(await infer(), Math.max(steps, engine === 'wasm' ? 3 : 15));
  return { engine, size, batch, threads, params, train_ms_per_step: trainMs === null ? undefined : +trainMs.toFixed(1), infer_ms_per_batch: +inferMs.toFixed(1),
    train_img_per_s: trainMs === null ? null : +(batch * 1000 / trainMs).toFixed(2), infer_img_per_s: +(batch * 1000 / inferMs).toFixed(2) };
}

/**
 * Inference in onnxruntime-node (CPU) on the same network: the model is built with the same seed as the torch row's
 * (the same weights) and exported as `sts export` does (models/onnx-export.ts: batch norm folded, opset 13), then run
 * with the same threads on the same kind of input, NCHW. Inference only: ONNX Runtime does not train here.
 */
async function onnxRuntimeRow(size: number, batch: number, steps: number, threads: number): Promise<Row> {
  const { initEngine, tf } = await import('../src/engine/backend.js');
  await initEngine({ backend: 'torch', threads, warn: null });
  const { createModel, trainableParameterCount } = await import('../src/models/index.js');
  const { onnxOfModel } = await import('../src/models/onnx-export.js');
  const ort = (await import('onnxruntime-node')).default;
  const model = createModel({ name: 'unet', size, channels: 3 }, { seed: 2022 });
  const params = trainableParameterCount(model);
  const session = await ort.InferenceSession.create(await onnxOfModel(model, { sidecar: {} }), { intraOpNumThreads: threads, interOpNumThreads: 1, executionMode: 'sequential' });
  const x = tf.tidy(() => tf.transpose(tf.mul(tf.randomUniform([batch, size, size, 3], 0, 1, 'float32', 1), 255), [0, 3, 1, 2]));
  const input = new ort.Tensor('float32', x.dataSync() as Float32Array, [batch, 3, size, size]);
  const run = async () => {
    const t = performance.now();
    await session.run({ input });
    return performance.now() - t;
  };
  await run(); // warm-up
  const ts: number[] = [];
  for (let i = 0; i < Math.max(steps, 15); i++) ts.push(await run());
  ts.sort((a, b) => a - b);
  const inferMs = ts[Math.floor(ts.length / 2)];
  return { engine: 'onnxruntime', size, batch, threads, params, infer_ms_per_batch: +inferMs.toFixed(1), train_img_per_s: null, infer_img_per_s: +(batch * 1000 / inferMs).toFixed(2) };
}

/**
 * The leak check: `steps` training steps, RSS and live tensors sampled after a warm-up and at the end. RSS may
 * settle during the first steps (allocator pools, oneDNN caches), so growth is measured from step 20 on.
 */
async function memoryRun(step: () => void, tf: typeof import('@tensorflow/tfjs'), info: { engine: string; size: number; batch: number; threads: number; params: number; steps: number }): Promise<Row> {
  const warmup = 20;
  const { loadNative } = await import('../src/engine/torch/native.js');
  const addon = loadNative();
  const snapshot = () => {
    const m = process.memoryUsage();
    const mb = (b: number) => Math.round(b / 2 ** 20);
    const heap = addon?.mallocInfo() ?? {};
    // glibc's own count of bytes handed out (in use) and held free inside its heaps: a leak grows the first,
    // fragmentation the second.
    return { rss: mb(m.rss), js_heap: mb(m.heapUsed), array_buffers: mb(m.arrayBuffers), cache: mb(addon?.cachedBytes() ?? 0), tensor_storage: mb(addon?.liveBytes?.() ?? 0), malloc_in_use: mb(heap.inUse ?? 0), malloc_free: mb(heap.free ?? 0) };
  };
  // With --expose-gc: RSS after a full collection too, to tell garbage not yet collected from memory kept.
  const collected = () => {
    (globalThis as { gc?: () => void }).gc?.();
    return snapshot();
  };
  let gcWarm = snapshot();
  let atWarm = snapshot();
  let rssWarm = 0;
  let tensorsWarm = 0;
  let rssMax = 0;
  for (let i = 0; i < info.steps; i++) {
    step();
    // Yield to the event loop after each step, as the trainer does: Node-API runs the finalizers of collected tensor
    // handles from it, so a loop that never yields keeps a growing queue of them (measured: 0.3 MB a step).
    await new Promise(setImmediate);
    const rss = process.memoryUsage().rss;
    if (i + 1 === warmup) {
      gcWarm = collected();
      atWarm = snapshot();
      rssWarm = rss;
      tensorsWarm = tf.memory().numTensors;
    }
    if (i + 1 > warmup) rssMax = Math.max(rssMax, rss);
  }
  const rssEnd = process.memoryUsage().rss;
  const mb = (b: number) => Math.round(b / 2 ** 20);
  return {
    ...info,
    train_img_per_s: 0,
    infer_img_per_s: 0,
    memory: { steps: info.steps, warmup, rss_after_warmup_mb: mb(rssWarm), rss_end_mb: mb(rssEnd), rss_max_mb: mb(rssMax),
      rss_growth_pct: +(((rssMax - rssWarm) / rssWarm) * 100).toFixed(2), tensors_after_warmup: tensorsWarm, tensors_end: tf.memory().numTensors,
      rss_after_warmup_collected_mb: gcWarm.rss, rss_end_collected_mb: collected().rss, array_buffers_after_warmup_mb: gcWarm.array_buffers, array_buffers_end_mb: snapshot().array_buffers,
      js_heap_after_warmup_mb: atWarm.js_heap, js_heap_end_mb: snapshot().js_heap, allocator_cache_after_warmup_mb: atWarm.cache, allocator_cache_end_mb: snapshot().cache,
      malloc: mallocInUse(),
      tensor_storage_after_warmup_mb: atWarm.tensor_storage, tensor_storage_end_mb: snapshot().tensor_storage,
      malloc_in_use_after_warmup_mb: atWarm.malloc_in_use, malloc_in_use_end_mb: snapshot().malloc_in_use, malloc_free_after_warmup_mb: atWarm.malloc_free, malloc_free_end_mb: snapshot().malloc_free },
  } as Row;
}

function runChild(engine: string, size: number, batch: number, steps: number, threads: number): Row | null {
  const args = [fileURLToPath(import.meta.url), '--child', engine, '--size', String(size), '--batch', String(batch), '--steps', String(steps), '--threads', String(threads)];
  const r = spawnSync(process.execPath, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'], maxBuffer: 1 << 24 });
  const line = r.stdout.trim().split('\n').pop() ?? '';
  try {
    return JSON.parse(line) as Row;
  } catch {
    console.error(`[bench] ${engine} ${size}: failed (exit ${r.status}): ${r.stdout.slice(-500)}`);
    return null;
  }
}

function runPytorch(size: number, batch: number, steps: number, threads: number): Row | null {
  const script = process.env.STS_PYTORCH_BENCH ?? path.resolve(root, '../shared/bench/pytorch_unet.py');
  const r = spawnSync('/usr/bin/python3', [script, '--size', String(size), '--batch', String(batch), '--steps', String(steps), '--threads', String(threads)], { encoding: 'utf8' });
  if (r.status !== 0) {
    console.error(`[bench] pytorch ${size}: failed (${r.error?.message ?? r.stderr.slice(-300)}); install python3-torch (apt-get install -y python3-torch)`);
    return null;
  }
  return JSON.parse(r.stdout.trim().split('\n').pop()!) as Row;
}

async function main() {
  if (argv.includes('--child')) {
    try {
      const row = await child(opt('child', 'torch'), +opt('size', '64'), +opt('batch', '16'), +opt('steps', '3'), +opt('threads', '1'));
      console.log(JSON.stringify(row));
      process.exit(0);
    } catch (error) {
      // An engine this machine cannot run (bfloat16 without AVX-512) is one line in the log, not a stack trace.
      console.error(`[bench] ${(error as Error).message}`);
      process.exit(1);
    }
  }
  const threads = +opt('threads', process.env.STS_THREADS ?? String(availableParallelism()));
  if (argv.includes('--memory')) {
    const size = +opt('size', '64');
    const steps = +opt('steps', '200');
    const b = +opt('batch', '8');
    console.error(`[bench] memory: ${steps} torch training steps, U-Net ${size}x${size} batch ${b}, ${threads} threads ...`);
    const args = ['--expose-gc', fileURLToPath(import.meta.url), '--child', 'torch', '--memory', '--size', String(size), '--batch', String(b), '--steps', String(steps), '--threads', String(threads)];
    // The training process runs on the allocator `sts` uses (jemalloc where installed; STS_ALLOCATOR=system: glibc's).
    const r = spawnSync(process.execPath, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'], env: jemallocEnv(process.env) ?? process.env });
    const row = JSON.parse(r.stdout.trim().split('\n').pop()!) as Row;
    console.log(JSON.stringify(row.memory));
    const m = row.memory as Record<string, number> & { malloc?: string };
    console.log(`RSS ${m.rss_after_warmup_mb} MB after ${m.warmup} steps, at most ${m.rss_max_mb} MB after (${m.rss_growth_pct}%), ${m.rss_end_mb} MB at step ${m.steps}; tensors ${m.tensors_after_warmup} -> ${m.tensors_end}`);
    const g = ((m.rss_end_collected_mb - m.rss_after_warmup_collected_mb) / m.rss_after_warmup_collected_mb) * 100;
    console.log(`after a full garbage collection: ${m.rss_after_warmup_collected_mb} MB at step ${m.warmup} -> ${m.rss_end_collected_mb} MB at step ${m.steps} (${g.toFixed(2)}%)`);
    mkdirSync(path.join(root, 'bench/results'), { recursive: true });
    const malloc = m.malloc === 'jemalloc' ? 'jemalloc' : 'glibc';
    console.log(`malloc: ${malloc}`);
    const file = malloc === 'glibc' ? 'engine-memory.json' : `engine-memory-${malloc}.json`;
    writeFileSync(path.join(root, 'bench/results', file), JSON.stringify({ engine: 'torch', size, batch: b, threads, ...m, malloc }, null, 2) + '\n');
    return;
  }
  const batch = +opt('batch', '16');
  const steps = +opt('steps', '5');
  const engines = opt('engines', 'torch,torch-bf16,onnxruntime,wasm,pytorch').split(',');
  const sizes = opt('sizes', '64,128').split(',').map(Number);
  const wasmSizes = opt('wasm-sizes', '64').split(',').map(Number);
  const rows: Row[] = [];
  for (const size of sizes) {
    for (const e of engines) {
      if (e === 'wasm' && !wasmSizes.includes(size)) continue;
      console.error(`[bench] ${e} ${size}x${size} batch ${batch}, ${threads} threads ...`);
      const row = e === 'pytorch' ? runPytorch(size, batch, steps, threads)
        : runChild(e, size, batch, e === 'wasm' ? +opt('wasm-steps', '1') : steps, threads);
      if (row) rows.push(row);
    }
  }
  const out = rows.map((r) => ({ engine: r.engine, size: r.size, batch: r.batch, threads: r.threads,
    train_img_per_s: r.train_img_per_s, infer_img_per_s: r.infer_img_per_s, params: r.params,
    train_ms_per_step: r.train_ms_per_step, infer_ms_per_batch: r.infer_ms_per_batch }));
  console.log('engine     size  batch threads  params     train img/s  infer img/s  train vs pytorch  infer vs pytorch');
  for (const r of out) {
    const py = out.find((p) => p.engine === 'pytorch' && p.size === r.size);
    const ratio = (a: number | null, b?: number | null) => (a && b ? `${(a / b).toFixed(2)}x` : '-');
    console.log(`${r.engine.padEnd(10)} ${String(r.size).padEnd(5)} ${String(r.batch).padEnd(5)} ${String(r.threads).padEnd(8)} ${String(r.params ?? '').padEnd(10)} ` +
      `${String(r.train_img_per_s ?? '-').padEnd(12)} ${String(r.infer_img_per_s).padEnd(12)} ${ratio(r.train_img_per_s, py?.train_img_per_s).padEnd(17)} ${ratio(r.infer_img_per_s, py?.infer_img_per_s)}`);
  }
  for (const size of sizes) {
    const t = out.find((r) => r.engine === 'torch' && r.size === size);
    const w = out.find((r) => r.engine === 'wasm' && r.size === size);
    if (t && w) console.log(`torch vs wasm at ${size}: train ${(t.train_img_per_s! / w.train_img_per_s!).toFixed(1)}x, infer ${(t.infer_img_per_s / w.infer_img_per_s).toFixed(1)}x`);
    const o = out.find((r) => r.engine === 'onnxruntime' && r.size === size);
    if (t && o) console.log(`onnxruntime vs torch at ${size}: infer ${(o.infer_img_per_s / t.infer_img_per_s).toFixed(2)}x`);
    const b = out.find((r) => r.engine === 'torch-bf16' && r.size === size);
    if (b && w) console.log(`torch-bf16 vs wasm at ${size}: infer ${(b.infer_img_per_s / w.infer_img_per_s).toFixed(1)}x`);
  }
  mkdirSync(path.join(root, 'bench/results'), { recursive: true });
  // Only the full comparison replaces the committed results; a run of some engines or sizes goes beside it.
  const partial = ['engines', 'sizes', 'batch', 'wasm-sizes'].some((o) => argv.includes(`--${o}`));
  const file = `bench/results/${partial ? 'engine-partial' : 'engine'}.json`;
  writeFileSync(path.join(root, file), JSON.stringify(out, null, 2) + '\n');
  console.log(`wrote ${file}`);
}

await main();
