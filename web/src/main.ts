/** The page: wires the controls to the two workers and the viewer, and shows what comes back. */
import type { DropPolicy } from 'segment-then-segment/core';
import { type CatalogPair, loadCatalog } from './catalog.js';
import { CropBoxes } from './ui/box-tiles.js';
import { download } from './ui/download.js';
import { engineLine, fallbackNote } from './ui/engine-text.js';
import { ObjectTable } from './ui/object-table.js';
import { progressLine } from './ui/progress-text.js';
import { Viewer } from './ui/viewer.js';
import { ViewClient, WorkerClient } from './ui/worker-client.js';
import type { BackendChoice, ImageInfo, Method, ObjectsReply, Reply, Step } from './worker/protocol.js';

const $ = <T extends HTMLElement = HTMLElement>(id: string) => document.getElementById(id) as T;
const status = $('status');
const message = $('message');
const viewer = new Viewer($('viewer'));
const boxes = new CropBoxes();
const OWN = 'own';

let image: ImageInfo | undefined;
let result: Extract<Reply, { type: 'result' }> | undefined;
let objects: Partial<Record<Method, ObjectsReply>> = {};
let hasModels = false;
let running = false;
let stageStarted = { stage: '', at: 0 };

const params = new URLSearchParams(location.search);
const backend = (['auto', 'webgpu', 'webgl', 'wasm'].includes(params.get('backend') ?? '') ? params.get('backend') : 'auto') as BackendChoice;
// ?threads=N caps the wasm threads (to compare, or to leave cores to other work); default one per core.
const threads = Number(params.get('threads')) || undefined;
const client = new WorkerClient(backend, onReply, threads && threads >= 1 ? Math.floor(threads) : undefined);
const view = new ViewClient((reply) => {
  if (reply.type === 'overview') viewer.refresh('image');
  // The segmentation worker reports a file it cannot read; the viewer's copy of that message adds nothing.
  if (reply.type === 'error' && image) showMessage(`The viewer failed: ${reply.message}`);
});

function setState(key: 'image' | 'models' | 'run' | 'backend' | 'objects', value: string): void {
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

function method(): Method {
  return (document.querySelector<HTMLInputElement>('input[name=method]:checked')?.value as Method) ?? 'sts';
}

function updateButtons(): void {
  $<HTMLButtonElement>('run').disabled = running || !image || !hasModels;
  $<HTMLButtonElement>('cancel').disabled = !running;
  $<HTMLButtonElement>('download-mask').disabled = !result || running;
  for (const id of ['download-geojson', 'download-csv']) $<HTMLButtonElement>(id).disabled = !result || running || !objects[method()];
  $<HTMLFieldSetElement>('view').disabled = !result;
  $<HTMLInputElement>('rough-only-up-to').disabled = !$<HTMLInputElement>('within-rough').checked;
}

const stepWords: Record<Step, string> = {
  init: 'Starting the engine', open: 'Opening the image', models: 'Loading the models', run: 'Segmenting', objects: 'Finding the objects', mask: 'Making the mask',
};

/**
 * Overlay tiles ask the worker for results so far; while they arrive, the overlay is redrawn about once a second, or
 * less often when a redraw costs the worker more than a tenth of that time (its tiles are drawn between network
 * calls, from every result so far: on a slide with tens of thousands of objects, redrawing each second would take an
 * estimated fifth of the worker), but at least every MAX_REDRAW_MS.
 */
const MIN_REDRAW_MS = 1000;
const MAX_REDRAW_MS = 15_000;
let refreshTimer: ReturnType<typeof setTimeout> | undefined;
/** The worker's tile time at the last redraw, and what the redraw before it cost (its tiles, and any the user asked for). */
let tileMsAtRedraw = 0;
let redrawCostMs = 0;
let overlayUpdates = 0;
/** Results-so-far messages of the current run: tests see the result stream in even when redraws are throttled. */
let resultUpdates = 0;
function refreshOverlays(now = false): void {
  const redraw = () => {
    refreshTimer = undefined;
    redrawCostMs = client.tileMs - tileMsAtRedraw;
    tileMsAtRedraw = client.tileMs;
    status.dataset.redrawCostMs = redrawCostMs.toFixed(0);
    viewer.refresh('mask');
    viewer.refresh('boxes');
    // How often the overlay was redrawn with new results: tests and people can see it grow during a run.
    status.dataset.overlayUpdates = String(++overlayUpdates);
  };
  if (now) {
    clearTimeout(refreshTimer);
    redraw();
    return;
  }
  refreshTimer ??= setTimeout(redraw, Math.min(MAX_REDRAW_MS, Math.max(MIN_REDRAW_MS, 10 * redrawCostMs)));
}

function onReply(reply: Reply): void {
  switch (reply.type) {
    case 'ready':
      setState('backend', reply.backend);
      // Tests and benchmarks read the isolation and the thread count here; people read the line.
      status.dataset.isolated = String(reply.isolated);
      status.dataset.threads = String(reply.threads ?? '');
      {
        // A backend asked for by name that could not start: said in the engine line, which stays, and at the top.
        const note = fallbackNote(backend, reply);
        $('backend-info').textContent = note ? `${engineLine(reply)} ${note}` : engineLine(reply);
        if (note) showMessage(note, 'note');
      }
      return;
    case 'image': {
      image = reply;
      resetResult();
      const levels = reply.levels.length > 1 ? `, a pyramid of ${reply.levels.length} levels` : reply.kind === 'tiff' ? ', no pyramid (far views come from a streamed downscale)' : '';
      $('image-info').textContent = `${reply.name}: ${reply.width.toLocaleString('en')} x ${reply.height.toLocaleString('en')} px${levels}` +
        `${reply.kind === 'tiff' ? ', read by windows from the file' : ''} (opened in ${reply.openMs.toFixed(0)} ms).`;
      void viewer.show(reply, {
        image: (tile) => view.tile(tile),
        mask: (tile) => client.tile(method(), tile),
        boxes: (tile) => boxes.render(tile),
      }, { mask: $<HTMLInputElement>('show-mask').checked, boxes: $<HTMLInputElement>('show-boxes').checked });
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
      const { stage, done, total } = reply.progress;
      if (stage !== stageStarted.stage) stageStarted = { stage, at: performance.now() };
      const share = stage === 'rough' ? [0, 0.3] : [0.3, 0.7];
      $<HTMLProgressElement>('progress').value = share[0] + share[1] * (done / Math.max(1, total));
      $('run-info').textContent = progressLine(reply.progress, (performance.now() - stageStarted.at) / 1000);
      return;
    }
    case 'results':
      if (reply.crops) boxes.add(reply.boxes);
      status.dataset.resultUpdates = String(++resultUpdates);
      refreshOverlays();
      return;
    case 'finding':
      if (reply.method === 'sts' && running) $('run-info').textContent = `Finding the objects: ${reply.found.toLocaleString('en')} so far…`;
      if (reply.method === method()) $('objects-summary').textContent = `Finding the objects: ${reply.found.toLocaleString('en')} so far…`;
      return;
    case 'objects':
      objects[reply.method] = reply;
      if (reply.method === method()) renderObjects();
      break;
    case 'result':
      running = false;
      result = reply;
      refreshOverlays(true);
      $<HTMLProgressElement>('progress').value = 1;
      $('run-info').textContent = `Done in ${formatMs(reply.ms)} (networks ${formatMs(reply.networkMs)}; ${phasesText(reply.phases)}): ${reply.crops.toLocaleString('en')} fine crops` +
        `${reply.roughOnly ? `, ${reply.roughOnly.toLocaleString('en')} boxes kept rough` : ''}; rough pass ${reply.rough.mode === 'tiled' ? `tiled (${reply.rough.tiles.toLocaleString('en')} tiles, ${reply.rough.flatTiles.toLocaleString('en')} blank; level ${reply.rough.level})` : 'on the whole image at S x S'}.`;
      setState('run', 'done');
      break;
    case 'mask':
      download(`${baseName()}-${reply.method}-mask${image && (reply.width !== image.width || reply.height !== image.height) ? `-${reply.width}x${reply.height}` : ''}.png`, reply.png, 'image/png');
      return;
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
        image = undefined;
        resetResult();
        viewer.clear();
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

function formatMs(ms: number): string {
  return ms < 10_000 ? `${ms.toFixed(0)} ms` : ms < 120_000 ? `${(ms / 1000).toFixed(1)} s` : `${(ms / 60_000).toFixed(1)} min`;
}

/** Where a run's time went, pass by pass, each with its networks' share: what is not a network is what to speed up. */
function phasesText(p: Extract<Reply, { type: 'result' }>['phases']): string {
  return `rough pass ${formatMs(p.roughMs)} (networks ${formatMs(p.roughNetworkMs)}), fine pass ${formatMs(p.fineMs)} (networks ${formatMs(p.fineNetworkMs)}), objects ${formatMs(p.objectsMs)}`;
}

function baseName(): string {
  return image?.name.replace(/\.[^.]+$/, '').replace(/\.ome$/i, '') || 'image';
}

function resetResult(): void {
  result = undefined;
  objects = {};
  boxes.clear();
  renderObjects();
}

const table = new ObjectTable($('objects'), (box) => viewer.zoomTo(box));

function renderObjects(): void {
  const found = objects[method()];
  table.show(found?.rows);
  setState('objects', found ? 'ready' : 'none');
  if (!found) {
    $('objects-summary').textContent = result ? 'Finding the objects…' : '';
    return;
  }
  const s = found.summary;
  const n = (v: number) => v.toLocaleString('en');
  $('objects-summary').textContent =
    `${n(s.count)} object${s.count === 1 ? '' : 's'}` +
    (s.count ? `; area (px): total ${n(s.total)}, mean ${s.mean.toFixed(1)}, median ${s.median}, min ${s.min}, max ${s.max}` : '');
}

function openImage(file: File | undefined): void {
  if (!file) return;
  image = undefined;
  resetResult();
  setState('image', 'loading');
  setState('run', 'idle');
  $('image-info').textContent = `Opening ${file.name}…`;
  updateButtons();
  client.open(file);
  view.open(file);
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
    showMessage('Pick both models first: for each, the model.json + weights.bin of a folder written by \'sts train\', or an .onnx file (with its .onnx.json sidecar if it has one).');
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
document.body.addEventListener('dragover', (e) => {
  e.preventDefault();
  drop.classList.add('over');
});
document.body.addEventListener('dragleave', () => drop.classList.remove('over'));
document.body.addEventListener('drop', (e) => {
  e.preventDefault();
  drop.classList.remove('over');
  openImage(e.dataTransfer?.files[0]);
});

$('within-rough').addEventListener('change', updateButtons);
$('run').addEventListener('click', () => {
  const roughOnlyUpTo = Number($<HTMLInputElement>('rough-only-up-to').value);
  if (!(Number.isInteger(roughOnlyUpTo) && roughOnlyUpTo >= 0)) {
    showMessage(`The rough-mask pixel limit must be a whole number of pixels (0 or more), not '${$<HTMLInputElement>('rough-only-up-to').value}'.`);
    return;
  }
  running = true;
  resetResult();
  // The counters the page shows of the result streaming in count this run only.
  overlayUpdates = resultUpdates = 0;
  status.dataset.overlayUpdates = status.dataset.resultUpdates = '0';
  // A new run's overlay starts empty: its first redraw comes a second after its first results.
  redrawCostMs = 0;
  tileMsAtRedraw = client.tileMs;
  viewer.refresh('mask', { immediate: true });
  viewer.refresh('boxes', { immediate: true });
  stageStarted = { stage: '', at: performance.now() };
  setState('run', 'running');
  $<HTMLProgressElement>('progress').value = 0;
  $('run-info').textContent = 'Starting…';
  clearMessage();
  updateButtons();
  client.run({
    type: 'run',
    options: { dropPolicy: $<HTMLSelectElement>('drop-policy').value as DropPolicy, withinRough: $<HTMLInputElement>('within-rough').checked, roughOnlyUpTo },
  });
});
$('cancel').addEventListener('click', () => client.cancel());
for (const input of document.querySelectorAll<HTMLInputElement>('input[name=method]')) {
  input.addEventListener('change', () => {
    viewer.refresh('mask', { immediate: true });
    viewer.setVisible('boxes', $<HTMLInputElement>('show-boxes').checked && method() === 'sts');
    if (result && !objects[method()]) client.objects(method());
    renderObjects();
    updateButtons();
  });
}
$('show-mask').addEventListener('change', () => viewer.setVisible('mask', $<HTMLInputElement>('show-mask').checked));
$('show-boxes').addEventListener('change', () => viewer.setVisible('boxes', $<HTMLInputElement>('show-boxes').checked && method() === 'sts'));
$('download-mask').addEventListener('click', () => {
  if (result) client.mask(method());
});
$('download-geojson').addEventListener('click', () => {
  const found = objects[method()];
  if (found) download(`${baseName()}-${method()}-objects.geojson`, found.geojson, 'application/geo+json');
});
$('download-csv').addEventListener('click', () => {
  const found = objects[method()];
  if (found) download(`${baseName()}-${method()}-objects.csv`, found.csv, 'text/csv');
});

void setUpModels();
updateButtons();
