/** Saves bytes, text or a Blob as a file through a temporary link, the one way every browser offers. */
export function download(name: string, content: string | Uint8Array | Blob, type: string): void {
  // Our byte arrays never sit on a SharedArrayBuffer, which is all the cast hides.
  const url = URL.createObjectURL(content instanceof Blob ? content : new Blob([content as BlobPart], { type }));
  const link = document.createElement('a');
  link.href = url;
  link.download = name;
  document.body.append(link);
  link.click();
  link.remove();
  // Some browsers read the URL after click() returns.
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}
