/**
 * The import graph of the TypeScript sources, read with the compiler's own pre-processor (so
 * `import type`, `export … from`, `import()` and `require()` all count: a type is knowledge too),
 * and its cycles. Used by test/layers.test.ts and test/import-cycles.test.ts.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import ts from 'typescript';

/** A file's path (relative to the graph's root, `/`-separated) → the files it imports. */
export type ModuleGraph = Map<string, string[]>;

/** The relative module specifiers a TypeScript source imports, exports from or requires. */
export function specifiers(source: string): string[] {
  const info = ts.preProcessFile(source, true, true);
  return info.importedFiles.map((f) => f.fileName);
}

/** The file a relative specifier names from `from`, as TypeScript resolves it (`x.ts`, `x/index.ts`),
 * or the plain joined path when no such file exists (outside the graph: ormconfig.ts, migrations/). */
export function resolveSpecifier(from: string, spec: string, exists: (file: string) => boolean): string {
  const base = path.posix.normalize(path.posix.join(path.posix.dirname(from), spec));
  for (const candidate of [`${base}.ts`, `${base}/index.ts`, base]) if (exists(candidate)) return candidate;
  return `${base}.ts`;
}

/** The graph of in-memory sources (`path → text`); only relative imports make edges. */
export function graphOf(sources: Map<string, string>): ModuleGraph {
  const graph: ModuleGraph = new Map();
  for (const [file, text] of sources) {
    const targets = specifiers(text)
      .filter((spec) => spec.startsWith('.'))
      .map((spec) => resolveSpecifier(file, spec, (f) => sources.has(f)));
    graph.set(file, [...new Set(targets)]);
  }
  return graph;
}

/** Every `.ts` file under `dir` (recursively), keyed relative to `root`, with its text. */
export function readSources(root: string, dir: string): Map<string, string> {
  const sources = new Map<string, string>();
  const walk = (abs: string) => {
    for (const entry of readdirSync(abs)) {
      const full = path.join(abs, entry);
      if (statSync(full).isDirectory()) walk(full);
      else if (entry.endsWith('.ts') && !entry.endsWith('.d.ts')) {
        sources.set(path.relative(root, full).split(path.sep).join('/'), readFileSync(full, 'utf8'));
      }
    }
  };
  if (existsSync(path.join(root, dir))) walk(path.join(root, dir));
  return sources;
}

/**
 * The cycles of a graph, one per strongly connected component of two or more files (or a file
 * that imports itself), each written as a path `a → b → … → a` through the component. Edges to
 * files outside the graph are ignored.
 */
export function importCycles(graph: ModuleGraph): string[] {
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const components: string[][] = [];
  let next = 0;
  const edges = (file: string) => (graph.get(file) ?? []).filter((t) => graph.has(t));

  // Tarjan's algorithm, iterative so a deep graph cannot overflow the stack.
  for (const root of [...graph.keys()].sort()) {
    if (index.has(root)) continue;
    const work: { file: string; i: number }[] = [{ file: root, i: 0 }];
    index.set(root, next);
    low.set(root, next++);
    stack.push(root);
    onStack.add(root);
    while (work.length) {
      const frame = work[work.length - 1];
      const targets = edges(frame.file);
      if (frame.i < targets.length) {
        const target = targets[frame.i++];
        if (!index.has(target)) {
          index.set(target, next);
          low.set(target, next++);
          stack.push(target);
          onStack.add(target);
          work.push({ file: target, i: 0 });
        } else if (onStack.has(target)) {
          low.set(frame.file, Math.min(low.get(frame.file)!, index.get(target)!));
        }
        continue;
      }
      work.pop();
      if (work.length) {
        const parent = work[work.length - 1].file;
        low.set(parent, Math.min(low.get(parent)!, low.get(frame.file)!));
      }
      if (low.get(frame.file) === index.get(frame.file)) {
        const component: string[] = [];
        let member: string;
        do {
          member = stack.pop()!;
          onStack.delete(member);
          component.push(member);
        } while (member !== frame.file);
        if (component.length > 1 || edges(frame.file).includes(frame.file)) components.push(component);
      }
    }
  }
  return components.map((component) => cyclePath(component.sort(), edges)).sort();
}

/** A shortest cycle through the component's first file (breadth-first within the component). */
function cyclePath(component: string[], edges: (file: string) => string[]): string {
  const members = new Set(component);
  const start = component[0];
  const previous = new Map<string, string>();
  const queue = [start];
  while (queue.length) {
    const file = queue.shift()!;
    for (const target of edges(file).filter((t) => members.has(t))) {
      if (target === start) {
        const route = [file];
        while (route[0] !== start) route.unshift(previous.get(route[0])!);
        return [...route, start].join(' → ');
      }
      if (!previous.has(target)) {
        previous.set(target, file);
        queue.push(target);
      }
    }
  }
  throw new Error(`no cycle through ${start}`);
}
