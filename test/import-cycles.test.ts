/**
 * Issue #23: no import cycle among src/ files. A cycle makes the order modules load in decide
 * what is defined (a class used before its module ran), and it means neither side can be read,
 * tested or moved without the other. Type-only imports count: they tie the files together too.
 */
import path from 'node:path';
import { graphOf, importCycles, readSources } from './support/module-graph';

const ROOT = path.resolve(__dirname, '..');

describe('the import graph of src/', () => {
  it('has no cycle', () => {
    const sources = readSources(ROOT, 'src');
    expect(sources.size).toBeGreaterThan(150);
    expect(importCycles(graphOf(sources))).toEqual([]);
  });

  it('finds every cycle of a made-up graph, whatever form its imports take (the walker itself)', () => {
    const sources = new Map([
      ['src/a.ts', `import { b } from './b';\nimport { DataSource } from 'typeorm';`],
      ['src/b.ts', `import type { C } from './dir/c';`],
      ['src/dir/c.ts', `export { a } from '../a';`],
      ['src/dir/index.ts', `const d = require('../d');`],
      ['src/d.ts', `const x = await import('./dir');`],
      ['src/self.ts', `import './self';`],
      ['src/leaf.ts', `import { a } from './a';\nimport { cfg } from '../ormconfig';`],
    ]);
    expect(importCycles(graphOf(sources))).toEqual([
      'src/a.ts → src/b.ts → src/dir/c.ts → src/a.ts',
      'src/d.ts → src/dir/index.ts → src/d.ts',
      'src/self.ts → src/self.ts',
    ]);
    sources.set('src/dir/c.ts', `export const a = 1;`);
    sources.delete('src/self.ts');
    expect(importCycles(graphOf(sources))).toEqual(['src/d.ts → src/dir/index.ts → src/d.ts']);
  });
});
