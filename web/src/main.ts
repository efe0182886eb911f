/** The page: wires the controls to the worker and shows what comes back. */
import { type Box, type DetectedObject, type DropPolicy, type Mask, type Raster, objectsOfMask } from 'segment-then-segment/core';
import { type CatalogPair, loadCatalog } from './catalog.js';
import { maskPng, objectsCsv, objectsGeoJson } from './objects/exports.js';
import { summarizeAreas } from './objects/objects.js';
import { download } from './ui/download.js';
import { Viewer } from './ui/viewer.js';
import { WorkerClient } from './ui/worker-client.js';
import type { BackendChoice, Reply, Step } from './worker/protocol.js';

const $ = <T extends HTMLElement = HTMLElement>(id: string) => document.getElementById(id) as T;
const status = $('status');
const message = $('message');
const viewer = new Viewer($('viewer'));
const OWN = 'own';

interface Result {
  readonly name: string;
  readonly width: number;
  readonly height: number;
  readonly boxes: Box[];
  readonly masks: Record<'sts' | 'baseline', Mask<Uint8Array>>;
  readonly objects: Record<'sts' | 'baseline', DetectedObject[]>;
}

let imageName = 'image';
let result: Result | undefined;
let hasImage = false;
let hasModels = false;
let running = false;

const params = new URLSearchParams(location.search);
const backend = (['auto', 'webgpu', 'webgl', 'wasm'].includes(params.get('backend') ?? '') ? params.get('backend') : 'auto') as BackendChoice;
const client = new WorkerClient(backend, onReply);

function setState(key: 'image' | 'models' | 'run' | 'backend', value: string): void {
  status.dataset[key] = value;
}

function showMessage(text: string, kind: 'error' | 'note' = 'error'): void {
  message.textContent = text;
  message.className = kind;
  message.hidden = false;
}

function clearMessage(): void {
  message.hidden = true;
}

function updateButtons(): void {
  $<HTMLButtonElement>('run').disabled = running || !hasImage || !hasModels;
  $<HTMLButtonElement>('cancel').disabled = !running;
  for (const id of ['download-mask', 'download-geojson', 'download-csv']) $<HTMLButtonElement>(id).disabled = !result || running;
  $<HTMLFieldSetElement>('view').disabled = !result;
}

const stepWords: Record<Step, string> = { init: 'Starting the engine', open: 'Opening the image', models: 'Loading the models', run: 'Segmenting' };

function onReply(reply: Reply): void {
  switch (reply.type) {
    case 'ready':
      setState('backend', reply.backend);
      $('backend-info').textContent = `Engine: TensorFlow.js ${reply.backend}${reply.skipped.length ? ` (not available: ${reply.skipped.join('; ')})` : ''}.`;
      return;
    case 'image': {
      imageName = reply.name.replace(/\.[^.]+$/, '') || 'image';
      const image: Raster<Uint8Array> = { width: reply.width, height: reply.height, channels: 3, data: reply.rgb };
      viewer.show(image);
      hasImage = true;
      result = undefined;
      renderObjects();
      $('image-info').textContent = `${reply.name}: ${reply.width} x ${reply.height} px (decoded in ${reply.decodeMs.toFixed(0)} ms).`;
      setState('image', 'ready');
      clearMessage();
      break;
    }
    case 'models':
      hasModels = true;
      $('model-info').textContent = `Ready: ${reply.info.description}, S = ${reply.info.size}, ${reply.info.channels} channel(s) (loaded in ${reply.loadMs.toFixed(0)} ms).`;
      setState('models', 'ready');
      clearMessage();
      break;
    case 'progress': {
      const progress = $<HTMLProgressElement>('progress');
      // The rough pass is one network call; crops are the bulk of the work.
      const { stage, done, total } = reply.progress;
      progress.value = stage === 'rough' ? 0.1 * (done / Math.max(1, total)) : 0.1 + 0.9 * (done / Math.max(1, total));
      $('run-info').textContent = stage === 'rough' ? `Rough pass: tile ${done} of ${total}…` : `Fine pass: crop ${done} of ${total}…`;
      return;
    }
    case 'result':
      running = false;
      showResult(reply);
      $<HTMLProgressElement>('progress').value = 1;
      $('run-info').textContent = `Done in ${reply.ms.toFixed(0)} ms: ${reply.boxes.length} crops.`;
      setState('run', 'done');
      break;
    case 'cancelled':
      if (!running) return;
      running = false;
      $<HTMLProgressElement>('progress').value = 0;
      $('run-info').textContent = 'Cancelled.';
      setState('run', 'cancelled');
      break;
    case 'error':
      if (reply.step === 'run') {
        running = false;
        setState('run', 'error');
      }
      if (reply.step === 'open') {
        hasImage = false;
        result = undefined;
        viewer.clear();
        renderObjects();
        $('image-info').textContent = 'No image open.';
        setState('image', 'error');
      }
      if (reply.step === 'models') {
        hasModels = false;
        $('model-info').textContent = 'No models loaded.';
        setState('models', 'error');
      }
      showMessage(`${stepWords[reply.step]} failed: ${reply.message}`);
      break;
  }
  updateButtons();
}

function showResult(reply: Extract<Reply, { type: 'result' }>): void {
  const mask = (data: Uint8Array): Mask<Uint8Array> => ({ width: reply.width, height: reply.height, channels: 1, data });
  const masks = { sts: mask(reply.sts), baseline: mask(reply.baseline) };
  result = {
    name: imageName,
    width: reply.width,
    height: reply.height,
    boxes: reply.boxes,
    masks,
    objects: { sts: reply.objects, baseline: objectsOfMask(masks.baseline) },
  };
  redraw();
  renderObjects();
}

function method(): 'sts' | 'baseline' {
  return (document.querySelector<HTMLInputElement>('input[name=method]:checked')?.value as 'sts' | 'baseline') ?? 'sts';
}

function redraw(): void {
  if (!result) return viewer.draw({});
  const m = method();
  viewer.draw({
    mask: $<HTMLInputElement>('show-mask').checked ? result.masks[m] : undefined,
    boxes: $<HTMLInputElement>('show-boxes').checked && m === 'sts' ? result.boxes : undefined,
  });
}

function renderObjects(): void {
  const table = $<HTMLTableElement>('objects');
  table.replaceChildren();
  if (!result) {
    $('objects-summary').textContent = '';
    return;
  }
  const objects = result.objects[method()];
  const s = summarizeAreas(objects);
  $('objects-summary').textContent =
    `${s.count} object${s.count === 1 ? '' : 's'}` +
    (s.count ? `; area (px): total ${s.total}, mean ${s.mean.toFixed(1)}, median ${s.median}, min ${s.min}, max ${s.max}` : '');
  const head = table.createTHead().insertRow();
  for (const h of ['#', 'area px', 'centre x', 'centre y']) head.append(Object.assign(document.createElement('th'), { textContent: h }));
  const body = table.createTBody();
  // A long table adds nothing a CSV download does not; the first objects show what is there.
  for (const o of objects.slice(0, 500)) {
    const row = body.insertRow();
    for (const v of [o.id, o.area, o.centroidX.toFixed(1), o.centroidY.toFixed(1)]) row.insertCell().textContent = String(v);
  }
}

function openImage(file: File | undefined): void {
  if (!file) return;
  hasImage = false;
  result = undefined;
  setState('image', 'loading');
  setState('run', 'idle');
  $('image-info').textContent = `Opening ${file.name}…`;
  updateButtons();
  client.open(file);
}

function loadPair(pair: CatalogPair, base: URL): void {
  hasModels = false;
  setState('models', 'loading');
  $('model-info').textContent = `Loading ${pair.name}…`;
  $('about-models').textContent = `About this pair: ${pair.training}`;
  updateButtons();
  client.loadModels({ kind: 'url', rough: new URL(pair.rough, base).href, fine: new URL(pair.fine, base).href });
}

async function setUpModels(): Promise<void> {
  const select = $<HTMLSelectElement>('pair');
  let pairs: CatalogPair[] = [];
  let base = new URL(document.baseURI);
  try {
    ({ pairs, base } = await loadCatalog());
  } catch (error) {
    showMessage((error as Error).message);
  }
  for (const p of pairs) select.append(new Option(p.name, p.id));
  select.append(new Option('Your own model files…', OWN));
  const wanted = params.get('pair');
  select.value = pairs.some((p) => p.id === wanted) ? wanted! : (pairs[0]?.id ?? OWN);
  const choose = () => {
    const own = select.value === OWN;
    $('own-models').hidden = !own;
    const pair = pairs.find((p) => p.id === select.value);
    if (pair) loadPair(pair, base);
    else {
      hasModels = false;
      $('model-info').textContent = 'Pick the rough and the fine model files, then load them.';
      $('about-models').textContent = '';
      updateButtons();
    }
  };
  select.addEventListener('change', choose);
  choose();
}

$('load-own').addEventListener('click', () => {
  const rough = [...($<HTMLInputElement>('rough-files').files ?? [])];
  const fine = [...($<HTMLInputElement>('fine-files').files ?? [])];
  if (rough.length === 0 || fine.length === 0) {
    showMessage('Pick both models first: the rough model\'s model.json + weights.bin and the fine model\'s, from folders written by \'sts train\'.');
    return;
  }
  hasModels = false;
  setState('models', 'loading');
  $('model-info').textContent = 'Loading your models…';
  updateButtons();
  client.loadModels({ kind: 'files', rough, fine });
});

$<HTMLInputElement>('image-input').addEventListener('change', (e) => openImage((e.target as HTMLInputElement).files?.[0]));
const drop = $('drop');
for (const target of [document.body]) {
  target.addEventListener('dragover', (e) => {
    e.preventDefault();
    drop.classList.add('over');
  });
  target.addEventListener('dragleave', () => drop.classList.remove('over'));
  target.addEventListener('drop', (e) => {
    e.preventDefault();
    drop.classList.remove('over');
    openImage(e.dataTransfer?.files[0]);
  });
}

$('run').addEventListener('click', () => {
  running = true;
  result = undefined;
  renderObjects();
  redraw();
  setState('run', 'running');
  $<HTMLProgressElement>('progress').value = 0;
  $('run-info').textContent = 'Starting…';
  clearMessage();
  updateButtons();
  client.run({ type: 'run', dropPolicy: $<HTMLSelectElement>('drop-policy').value as DropPolicy });
});
$('cancel').addEventListener('click', () => client.cancel());
for (const input of document.querySelectorAll<HTMLInputElement>('#view input')) {
  input.addEventListener('change', () => {
    redraw();
    renderObjects();
  });
}
$('download-mask').addEventListener('click', () => {
  if (result) download(`${result.name}-${method()}-mask.png`, maskPng(result.masks[method()]), 'image/png');
});
$('download-geojson').addEventListener('click', () => {
  if (result) download(`${result.name}-${method()}-objects.geojson`, objectsGeoJson(result.objects[method()]), 'application/geo+json');
});
$('download-csv').addEventListener('click', () => {
  if (result) download(`${result.name}-${method()}-objects.csv`, objectsCsv(result.objects[method()]), 'text/csv');
});

void setUpModels();
updateButtons();
