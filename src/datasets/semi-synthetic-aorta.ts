/**
 * The semi-synthetic aorta dataset: AVT's real label volumes, each with a CT volume painted around it
 * (`synthesizeCt`), laid out as AVT is (`<patient>/<patient>.nrrd` beside `<patient>/<patient>.seg.nrrd`) so that
 * the ordinary AVT reader, training and evaluation take it unchanged, and 3D Slicer opens it.
 */
import { copyFile, readFile, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { basename, join } from 'node:path';
import { writeFolderAtomically } from '../io/atomic-write.js';
import { ArgumentError } from '../errors.js';
import { deriveSeed } from '../random.js';
import { writeAtomically } from '../io/atomic-write.js';
import { findLabelVolumes } from './layouts/avt.js';
import { encodeNrrd, readNrrd } from '../io/nrrd.js';
import { synthesizeCt } from './semi-synthetic-ct.js';

/** Bumped whenever `synthesizeCt` paints differently, so that a cached set of an older painter is not reused. */
export const SEMI_SYNTHETIC_VERSION = 1;

/** Written last: its presence means every patient is complete. It also tells anyone who opens the folder what it is. */
export const SEMI_SYNTHETIC_MARKER = 'SEMI-SYNTHETIC.md';

/** Where the `aorta` preset keeps its built set: $STS_CACHE_DIR, else ~/.cache/segment-then-segment. */
export function defaultSemiSyntheticAortaDir(): string {
  const cache = process.env.STS_CACHE_DIR ?? join(homedir(), '.cache', 'segment-then-segment');
  return join(cache, `aorta-semi-synthetic-v${SEMI_SYNTHETIC_VERSION}`);
}

export interface BuildOptions {
  readonly seed?: number;
  /** One line per patient written (or found complete). */
  readonly log?: (line: string) => void;
  readonly signal?: AbortSignal;
}

/**
 * Builds the set from the `.seg.nrrd` volumes under `labelsRoot` into `outRoot`. Each patient's folder appears
 * only once complete, so an interrupted build leaves no partial volume and a rerun continues with the patients
 * that are missing. Returns `outRoot`.
 */
export async function buildSemiSyntheticAorta(labelsRoot: string, outRoot: string, options: BuildOptions = {}): Promise<string> {
  const seed = options.seed ?? 42;
  const labels = await findLabelVolumes(labelsRoot);
  if (labels.length === 0) {
    throw new ArgumentError('labels', `${labelsRoot} holds no <patient>.seg.nrrd label volumes (AVT's layout: D1/D1.seg.nrrd); give the folder of the AVT labels`);
  }
  const log = options.log ?? (() => {});
  for (const [k, labelPath] of labels.entries()) {
    options.signal?.throwIfAborted();
    const patient = basename(labelPath).slice(0, -'.seg.nrrd'.length);
    const dir = join(outRoot, patient);
    if (existsSync(dir)) continue;
    const started = performance.now();
    await writeFolderAtomically(dir, async (tmp) => {
      const volume = await readNrrd(labelPath);
      const ct = synthesizeCt(volume, { seed: deriveSeed(seed, patientNumber(patient)) });
      const note = { 'sts-semi-synthetic': `CT painted around the real label volume ${patient}.seg.nrrd; not a real scan`, 'sts-generator': `v${SEMI_SYNTHETIC_VERSION} seed ${seed}` };
      await writeFile(join(tmp, `${patient}.nrrd`), encodeNrrd(ct, { keyValues: note }));
      await copyFile(labelPath, join(tmp, `${patient}.seg.nrrd`));
    });
    log(`semi-synthetic aorta: ${patient} (${k + 1}/${labels.length}) painted in ${((performance.now() - started) / 1000).toFixed(1)} s`);
  }
  await writeAtomically(join(outRoot, SEMI_SYNTHETIC_MARKER), (tmp) => writeFile(tmp, markerText(labelsRoot, labels.length, seed)));
  return outRoot;
}

/** True when `root` is a complete set built by this version of the painter. */
export async function isCompleteSemiSyntheticSet(root: string): Promise<boolean> {
  const marker = join(root, SEMI_SYNTHETIC_MARKER);
  if (!existsSync(marker)) return false;
  return (await readFile(marker, 'utf8')).includes(`painter version: ${SEMI_SYNTHETIC_VERSION}\n`);
}

/** A stable number per patient name, so that each patient's anatomy is the same whichever patients are present. */
function patientNumber(name: string): number {
  let h = 0;
  for (let i = 0; i < name.length; i++) h = (Math.imul(h, 31) + name.charCodeAt(i)) >>> 0;
  return h;
}

function markerText(labelsRoot: string, patients: number, seed: number): string {
  return [
    '# Semi-synthetic aorta CT (not real scans)',
    '',
    `Each \`<patient>.seg.nrrd\` is a real AVT label volume copied from ${labelsRoot}. Each \`<patient>.nrrd\` beside it`,
    'is a CT-like volume in Hounsfield units painted around that label by segment-then-segment: body, fat, lungs,',
    'ribs, spine, kidneys, vena cava, bowel gas, unlabelled small arteries, contrast-filled aorta with calcifications,',
    'partial-volume blur and noise. The shapes of the aorta are real; every intensity is made up. Results on this set',
    'must be reported as semi-synthetic, never as AVT results.',
    '',
    `patients: ${patients}`,
    `seed: ${seed}`,
    `painter version: ${SEMI_SYNTHETIC_VERSION}`,
    '',
  ].join('\n');
}
