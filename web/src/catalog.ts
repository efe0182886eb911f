/** The bundled model pairs, listed in public/models/catalog.json (written by scripts/bundle-web-models.mjs). */
export interface CatalogPair {
  readonly id: string;
  readonly name: string;
  /** Paths relative to the catalog. */
  readonly rough: string;
  readonly fine: string;
  /** How the pair was trained, for people. */
  readonly training: string;
}

export async function loadCatalog(): Promise<{ pairs: CatalogPair[]; base: URL }> {
  const base = new URL('models/catalog.json', document.baseURI);
  const response = await fetch(base);
  if (!response.ok) throw new Error(`the bundled model list (${base.pathname}) did not load (HTTP ${response.status}); load your own model files below`);
  const { pairs } = (await response.json()) as { pairs: CatalogPair[] };
  return { pairs, base };
}
