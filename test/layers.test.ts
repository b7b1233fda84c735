/**
 * Issue #13, item 5: the lower layers know no feature. No module under src/db, src/http or
 * src/pagination imports a feature folder (any other folder of src/: sessions, messages, users,
 * skills, node-sync, audio-uploads, storage, nodes, live, …, and a folder added later), the
 * generated resolver types (the schema's features), or the composition roots outside src/
 * (ormconfig.ts, migrations/). They may import each other, src/common and src/'s top-level
 * modules (errors, config, logger, ids…). Type-only imports count: they are knowledge too.
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';

const SRC = path.resolve(__dirname, '..', 'src');
const LOWER = ['db', 'http', 'pagination'];
const ALLOWED_FOLDERS = new Set([...LOWER, 'common']);

/** The module specifiers a TypeScript file imports, exports from or requires. */
function specifiers(source: string): string[] {
  const found: string[] = [];
  const patterns = [/\bfrom\s+['"]([^'"]+)['"]/g, /\bimport\s+['"]([^'"]+)['"]/g, /\b(?:import|require)\(\s*['"]([^'"]+)['"]\s*\)/g];
  for (const pattern of patterns) for (const match of source.matchAll(pattern)) found.push(match[1]);
  return found;
}

/** What `file` (a path under src/) imports that a lower layer may not: `file → specifier` lines. */
function violations(file: string, source: string): string[] {
  return specifiers(source)
    .filter((spec) => spec.startsWith('.'))
    .filter((spec) => {
      const target = path.relative(SRC, path.resolve(path.dirname(file), spec));
      if (target.startsWith('..')) return true; // ormconfig.ts, migrations/: above src/
      const [top, ...rest] = target.split(path.sep);
      return rest.length > 0 && !ALLOWED_FOLDERS.has(top);
    })
    .map((spec) => `${path.relative(SRC, file)} → ${spec}`);
}

describe('the lower layers (src/db, src/http, src/pagination)', () => {
  it('import no feature folder, no generated schema types and no composition root', () => {
    const files = LOWER.flatMap((dir) =>
      readdirSync(path.join(SRC, dir), { recursive: true, encoding: 'utf8' })
        .filter((f) => f.endsWith('.ts'))
        .map((f) => path.join(SRC, dir, f)),
    );
    expect(files.length).toBeGreaterThan(30);
    expect(files.flatMap((file) => violations(file, readFileSync(file, 'utf8')))).toEqual([]);
  });

  it('catches every form of import of a feature folder (the scan itself)', () => {
    const file = path.join(SRC, 'db', 'example.ts');
    const source = [
      `import { Session } from '../sessions/session.entity';`,
      `import type { Viewer } from '../auth/viewer';`,
      `export { x } from '../live/hub';`,
      `import '../storage/audio-cleanup';`,
      `const m = await import('../users/user.rows');`,
      `const n = require('../../ormconfig');`,
      `import { X } from '../generated/resolvers-types';`,
      // allowed: another lower layer, common, a top-level module, a package
      `import { toPage } from '../pagination/connection';`,
      `import { isStorableText } from '../common/text';`,
      `import { badField } from '../errors';`,
      `import { DataSource } from 'typeorm';`,
    ].join('\n');
    expect(violations(file, source).sort()).toEqual(
      [
      'db/example.ts → ../sessions/session.entity',
      'db/example.ts → ../auth/viewer',
      'db/example.ts → ../live/hub',
      'db/example.ts → ../storage/audio-cleanup',
      'db/example.ts → ../users/user.rows',
      'db/example.ts → ../../ormconfig',
      'db/example.ts → ../generated/resolvers-types',
      ].sort(),
    );
  });
});
