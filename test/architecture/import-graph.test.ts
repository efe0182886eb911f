/**
 * The architecture, checked: the import graph of src/ (type-only imports included) has no circles, no module
 * imports from a folder above its own in the pipeline, and nothing reachable from the browser entry (src/core.ts)
 * imports Node's modules or Node-only packages. Read from the TypeScript sources with the compiler's own parser.
 */
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, it } from 'node:test';
import ts from 'typescript';
import { packageRoot } from '../../src/paths.js';

const SRC = join(packageRoot, 'src');

/** Folders by layer, top first: a module may import its own layer's folders and the layers below, never above. */
export const LAYERS: readonly (readonly string[])[] = [
  // The package's entries (index.ts for Node, core.ts for browsers) gather the public API from everywhere.
  ['entry'],
  ['cli'],
  ['experiments', 'queue'],
  ['pipeline', 'train', 'catalog'],
  ['datasets'],
  ['models'],
  ['engine'],
  // Used by everything: pure code on typed arrays, the shared types, files in and out, the root helpers.
  ['geometry', 'instances', 'metrics', 'objects', 'types', 'io', '.'],
];

/** Packages (and Node built-ins) that do not run in a browser. */
const NODE_ONLY = /^(node:|sharp$|nifti-reader-js$|cli-progress$|commander$|@tensorflow\/tfjs-backend-wasm$|@tensorflow\/tfjs$|vega|bullmq|ioredis|onnxruntime-node)/;
const BUILTINS = new Set(['fs', 'path', 'os', 'crypto', 'url', 'child_process', 'events', 'stream', 'zlib', 'worker_threads', 'util']);

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? sourceFiles(join(dir, e.name)) : e.name.endsWith('.ts') && !e.name.endsWith('.d.ts') ? [join(dir, e.name)] : [],
  );
}

interface Imports {
  readonly local: string[];
  readonly packages: string[];
}

function importsOf(file: string): Imports {
  const source = ts.createSourceFile(file, readFileSync(file, 'utf8'), ts.ScriptTarget.ES2022, false);
  const local: string[] = [];
  const packages: string[] = [];
  const add = (spec: string) => {
    if (spec.startsWith('.')) local.push(resolve(dirname(file), spec).replace(/\.js$/, '.ts'));
    else packages.push(spec);
  };
  const visit = (node: ts.Node) => {
    if ((ts.isImportDeclaration(node) || ts.isExportDeclaration(node)) && node.moduleSpecifier && ts.isStringLiteral(node.moduleSpecifier)) {
      add(node.moduleSpecifier.text);
    } else if (ts.isCallExpression(node) && node.expression.kind === ts.SyntaxKind.ImportKeyword && ts.isStringLiteral(node.arguments[0])) {
      add(node.arguments[0].text);
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return { local, packages };
}

const files = sourceFiles(SRC);
const graph = new Map<string, Imports>(files.map((f) => [f, importsOf(f)]));
const name = (f: string) => relative(SRC, f);

/** The top folder of a module under src/ ('.' for the root files, 'entry' for the package's entries). */
function folderOf(file: string): string {
  const parts = name(file).split('/');
  if (parts.length > 1) return parts[0];
  return ['index.ts', 'core.ts'].includes(parts[0]) ? 'entry' : '.';
}

function layerOf(folder: string): number {
  const i = LAYERS.findIndex((l) => l.includes(folder));
  assert.ok(i >= 0, `src/${folder}/ is in no layer of test/architecture/import-graph.test.ts: add it where it belongs`);
  return i;
}

/** Circles, as lists of modules, by Tarjan's strongly connected components. */
function circles(): string[][] {
  let index = 0;
  const stack: string[] = [];
  const info = new Map<string, { index: number; low: number; onStack: boolean }>();
  const found: string[][] = [];
  const strong = (v: string) => {
    info.set(v, { index, low: index, onStack: true });
    index++;
    stack.push(v);
    for (const w of graph.get(v)?.local ?? []) {
      if (!graph.has(w)) continue;
      if (!info.has(w)) {
        strong(w);
        info.get(v)!.low = Math.min(info.get(v)!.low, info.get(w)!.low);
      } else if (info.get(w)!.onStack) info.get(v)!.low = Math.min(info.get(v)!.low, info.get(w)!.index);
    }
    if (info.get(v)!.low === info.get(v)!.index) {
      const component: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        info.get(w)!.onStack = false;
        component.push(name(w));
      } while (w !== v);
      if (component.length > 1 || graph.get(v)!.local.includes(v)) found.push(component);
    }
  };
  for (const f of files) if (!info.has(f)) strong(f);
  return found;
}

describe('architecture: the import graph of src/', () => {
  it('every relative import names a file that exists', () => {
    const missing = [...graph].flatMap(([f, { local }]) => local.filter((t) => !graph.has(t)).map((t) => `${name(f)} -> ${relative(SRC, t)}`));
    assert.deepEqual(missing, []);
  });

  it('has no import circles', () => {
    assert.deepEqual(circles(), []);
  });

  it('has no upward imports (entries -> cli -> experiments -> pipeline / train -> datasets -> models -> engine -> shared)', () => {
    assert.deepEqual(upwardImports(), []);
  });

  it('reaches no Node module or Node-only package from the browser entry, src/core.ts', () => {
    const { reached, offending } = nodeImportsFromCore();
    assert.ok(reached > 10, `core.ts reaches ${reached} modules`);
    assert.deepEqual(offending, []);
  });

  it('the checks fail on a circle, an upward import and a Node import when there is one', () => {
    // The rules above are only worth something if they can fail: each on a planted edge, removed afterwards.
    const geometry = join(SRC, 'geometry/raster.ts');
    const saved = graph.get(geometry)!;
    try {
      graph.set(geometry, { local: [...saved.local, geometry], packages: saved.packages });
      assert.ok(circles().some((c) => c.includes('geometry/raster.ts')), 'a planted self-import is a circle');
      graph.set(geometry, { local: [...saved.local, join(SRC, 'cli/program.ts')], packages: saved.packages });
      assert.ok(upwardImports().includes('geometry/raster.ts -> cli/program.ts'), 'a planted geometry -> cli import is upward');
      graph.set(geometry, { local: saved.local, packages: [...saved.packages, 'node:fs'] });
      assert.ok(nodeImportsFromCore().offending.some((o) => o.endsWith('geometry/raster.ts imports node:fs')), 'a planted node:fs is reached');
    } finally {
      graph.set(geometry, saved);
    }
  });
});

function upwardImports(): string[] {
  return [...graph].flatMap(([f, { local }]) =>
    local.filter((t) => graph.has(t) && layerOf(folderOf(t)) < layerOf(folderOf(f))).map((t) => `${name(f)} -> ${name(t)}`),
  );
}

/** Every Node import reachable from core.ts, each with the chain of imports that reaches it. */
function nodeImportsFromCore(): { reached: number; offending: string[] } {
  const entry = join(SRC, 'core.ts');
  const seen = new Set<string>();
  const path = new Map<string, string>([[entry, 'core.ts']]);
  const offending: string[] = [];
  const queue = [entry];
  while (queue.length > 0) {
    const f = queue.shift()!;
    if (seen.has(f)) continue;
    seen.add(f);
    const { local, packages } = graph.get(f) ?? { local: [], packages: [] };
    for (const p of packages) if (NODE_ONLY.test(p) || BUILTINS.has(p)) offending.push(`${path.get(f)} imports ${p}`);
    for (const t of local) {
      if (!path.has(t)) path.set(t, `${path.get(f)} -> ${name(t)}`);
      queue.push(t);
    }
  }
  return { reached: seen.size, offending };
}
