/**
 * The fine network's S x S maps kept deflated while a slide is segmented. A slide's fine results are held until
 * its outputs are written (every object needs all crops that touch it); at one byte per map pixel that was 8 KB per
 * crop of an instance pair, 552 MB for the 67,437 crops of the 40,000 x 40,000 mosaic. The maps are mostly runs of
 * 0 and 255, so deflate (fflate, platform-free: the page uses it too) keeps them at about a quarter, losslessly.
 * Readers take `bytesOf(map)` and need not know which form a map is in.
 */
import { deflateSync, inflateSync } from 'fflate';

/** A map deflated; `length` is its byte count unpacked. */
export interface PackedBytes {
  readonly deflated: Uint8Array;
  readonly length: number;
}

/** A map as it is kept: its bytes, or deflated. */
export type MapBytes = Uint8Array | PackedBytes;

/** Deflated at the fastest level: the maps compress almost as well, and a slide packs one or two per crop. */
export function packBytes(bytes: Uint8Array): PackedBytes {
  return { deflated: deflateSync(bytes, { level: 1 }), length: bytes.length };
}

/**
 * Maps unpacked lately, by their packed object: rendering asks for the same crop's map once per row it crosses
 * (a viewer tile, the overlay), which would otherwise inflate it each time. 256 maps of S = 64 are 1 MB.
 */
const recent = new Map<PackedBytes, Uint8Array>();
const RECENT = 256;

/** The bytes of `map` (unpacked where it is packed). Read them; never write to them, they may be shared. */
export function bytesOf(map: MapBytes): Uint8Array {
  if (map instanceof Uint8Array) return map;
  const hit = recent.get(map);
  if (hit) return hit;
  const bytes = inflateSync(map.deflated, { out: new Uint8Array(map.length) });
  if (recent.size >= RECENT) recent.delete(recent.keys().next().value!);
  recent.set(map, bytes);
  return bytes;
}
