/** One entry point for volume files, chosen by name: NRRD (`.nrrd`, `.nhdr`) or NIfTI (`.nii`, `.nii.gz`). */
import { StsError } from '../errors.js';
import { readNifti, readNiftiInfo } from './nifti.js';
import { readNrrd, readNrrdHeader } from './nrrd.js';
import type { Volume } from './volume.js';

export const VOLUME_EXTENSIONS = ['.nrrd', '.nhdr', '.nii', '.nii.gz'] as const;

export function isVolumePath(path: string): boolean {
  const lower = path.toLowerCase();
  return VOLUME_EXTENSIONS.some((ext) => lower.endsWith(ext));
}

export async function readVolume(path: string): Promise<Volume> {
  const lower = path.toLowerCase();
  if (lower.endsWith('.nrrd') || lower.endsWith('.nhdr')) return readNrrd(path);
  if (lower.endsWith('.nii') || lower.endsWith('.nii.gz')) return readNifti(path);
  throw new StsError(`${path}: not a volume file by its name; give a ${VOLUME_EXTENSIONS.join(', ')} file`);
}

/** Size and spacing of a volume file from its header, without reading the voxels. */
export async function readVolumeInfo(path: string): Promise<Omit<Volume, 'data'>> {
  const lower = path.toLowerCase();
  if (lower.endsWith('.nrrd') || lower.endsWith('.nhdr')) return readNrrdHeader(path);
  if (lower.endsWith('.nii') || lower.endsWith('.nii.gz')) return readNiftiInfo(path);
  throw new StsError(`${path}: not a volume file by its name; give a ${VOLUME_EXTENSIONS.join(', ')} file`);
}
