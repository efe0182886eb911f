/**
 * The series of an OME-TIFF, from the OME-XML in its first ImageDescription: each `<Image>` is a series (a slide
 * scan, its label, its macro photo, the wells of a plate), its planes stored in the IFDs its `<TiffData>` elements
 * name; its pyramid, if any, in the SubIFDs of those IFDs (OME-TIFF 6). Platform-free (a string in), so Node's
 * reader and the browser's can list the same series of the same file.
 *
 * Read with regular expressions rather than an XML parser: only element names and attributes are needed, and
 * OME-XML is machine-written (an `ome:` prefix or none).
 */

export interface OmeImage {
  /** The `<Image Name>`, when it has one. */
  readonly name?: string;
  /** The IFD of the series' first plane (its lowest `TiffData IFD`; 0 when none says). */
  readonly ifd: number;
  readonly sizeX: number;
  readonly sizeY: number;
  /** The file that holds its planes when that is another file of a multi-file OME-TIFF dataset. */
  readonly inFile?: string;
}

/** The images of an OME-XML document in their order; undefined when `xml` is not OME-XML. */
export function omeImagesOf(xml: string | undefined, fileName?: string): OmeImage[] | undefined {
  if (!xml || !/<(\w+:)?OME[\s>]/.test(xml)) return undefined;
  const images: OmeImage[] = [];
  for (const image of xml.matchAll(/<(?:\w+:)?Image\b([^>]*)>([\s\S]*?)<\/(?:\w+:)?Image>/g)) {
    const attrs = attributesOf(image[1]);
    const body = image[2];
    const pixels = attributesOf(/<(?:\w+:)?Pixels\b([^>]*)>/.exec(body)?.[1] ?? '');
    let ifd = Infinity;
    let inFile: string | undefined;
    for (const data of body.matchAll(/<(?:\w+:)?TiffData\b([^>]*?)(?:\/>|>([\s\S]*?)<\/(?:\w+:)?TiffData>)/g)) {
      const at = Number(attributesOf(data[1]).IFD ?? 0);
      if (Number.isInteger(at) && at < ifd) {
        ifd = at;
        const file = attributesOf(/<(?:\w+:)?UUID\b([^>]*)>/.exec(data[2] ?? '')?.[1] ?? '').FileName;
        inFile = file !== undefined && fileName !== undefined && file !== fileName ? file : undefined;
      }
    }
    images.push({
      ...(attrs.Name ? { name: attrs.Name } : {}),
      ifd: Number.isFinite(ifd) ? ifd : 0,
      sizeX: Number(pixels.SizeX ?? 0),
      sizeY: Number(pixels.SizeY ?? 0),
      ...(inFile ? { inFile } : {}),
    });
  }
  return images;
}

function attributesOf(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const m of text.matchAll(/([\w:.-]+)\s*=\s*(?:"([^"]*)"|'([^']*)')/g)) out[m[1]] = unescape(m[2] ?? m[3]);
  return out;
}

function unescape(text: string): string {
  return text.replace(/&(lt|gt|amp|quot|apos);/g, (_, e: string) => ({ lt: '<', gt: '>', amp: '&', quot: '"', apos: "'" })[e] ?? '');
}
