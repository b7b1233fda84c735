/**
 * Issues #13 and #23: the lower layers know no feature and not the composition root. No module
 * under src/db, src/http, src/pagination, src/limits, src/live, src/storage, src/auth or src/common reaches,
 * by any chain of imports, a feature folder (any other folder of src/: sessions, messages, users,
 * skills, node-sync, audio-uploads, nodes, consistency, cli, …, and a folder added later), the
 * generated schema types, or a composition file (context.ts, loaders.ts, server.ts, schema.ts,
 * live-server.ts, models.ts, ormconfig.ts, migrations/). They may import each other and src/'s
 * top-level modules that are themselves below the features (errors, config, logger, ids…).
 * Type-only imports count: they are knowledge too, and they tie the files together.
 */
import path from 'node:path';
import { graphOf, ModuleGraph, readSources } from './support/module-graph';

const ROOT = path.resolve(__dirname, '..');
const LOWER = ['db', 'http', 'pagination', 'limits', 'live', 'storage', 'auth', 'common'];
const COMPOSITION = ['context.ts', 'loaders.ts', 'server.ts', 'schema.ts', 'live-server.ts', 'models.ts', 'main.ts'];

/** Why `file` (a path under the root, `src/…`) is above the lower layers, or `undefined` when it is not. */
function above(file: string): string | undefined {
  if (!file.startsWith('src/')) return 'outside src/ (ormconfig.ts, migrations/)';
  const [top, ...rest] = file.slice('src/'.length).split('/');
  if (rest.length === 0) return COMPOSITION.includes(top) ? 'the composition root' : undefined;
  if (top === 'generated') return 'the generated schema types';
  return LOWER.includes(top) ? undefined : 'a feature folder';
}

/**
 * Each import of a lower-layer file that reaches a file above the lower layers, directly or
 * through top-level modules: `file → import (reaches target: why)`.
 */
function violations(graph: ModuleGraph): string[] {
  const found: string[] = [];
  const lower = (file: string) => file.startsWith('src/') && LOWER.includes(file.split('/')[1]) && file.split('/').length > 2;
  const reach = (start: string): { target: string; why: string } | undefined => {
    const seen = new Set<string>();
    const queue = [start];
    while (queue.length) {
      const file = queue.shift()!;
      if (seen.has(file)) continue;
      seen.add(file);
      const why = above(file);
      if (why) return { target: file, why };
      // A lower-layer file is checked on its own; a top-level module is looked through.
      if (!lower(file)) queue.push(...(graph.get(file) ?? []));
    }
    return undefined;
  };
  for (const [file, targets] of graph) {
    if (!lower(file)) continue;
    for (const target of targets) {
      const hit = reach(target);
      if (hit) found.push(`${file} → ${target}${hit.target === target ? '' : ` (reaches ${hit.target})`}: ${hit.why}`);
    }
  }
  return found.sort();
}

describe('the lower layers (db, http, pagination, limits, live, storage, auth, common)', () => {
  it('reach no feature folder, no generated schema types and no composition file', () => {
    const graph = graphOf(readSources(ROOT, 'src'));
    expect([...graph.keys()].filter((f) => LOWER.includes(f.split('/')[1])).length).toBeGreaterThan(60);
    expect(violations(graph)).toEqual([]);
  });

  it('catches every form of import of what lies above them, directly or through a top-level module (the scan itself)', () => {
    const sources = new Map([
      [
        'src/db/example.ts',
        [
          `import { Session } from '../sessions/session.entity';`,
          `import type { Context } from '../context';`,
          `export { x } from '../loaders';`,
          `import '../consistency/cascades';`,
          `const m = await import('../users/user.rows');`,
          `const n = require('../../ormconfig');`,
          `import { X } from '../generated/schema-types';`,
          `import { leaky } from '../leaky';`,
          // allowed: another lower layer, common, a top-level module below the features, a package
          `import { toPage } from '../pagination/connection';`,
          `import { isStorableText } from '../common/text';`,
          `import { badField } from '../errors';`,
          `import { DataSource } from 'typeorm';`,
        ].join('\n'),
      ],
      ['src/live/feed.ts', `import { messageAddedFeed } from '../messages/message.feed';\nimport { Viewer } from '../auth/viewer';`],
      ['src/auth/viewer.ts', `import { x } from '../server';`],
      ['src/leaky.ts', `import { Context } from './context';`],
      ['src/errors.ts', `import { config } from './config';`],
      ['src/config.ts', ``],
      ['src/pagination/connection.ts', ``],
      ['src/common/text.ts', ``],
    ]);
    expect(violations(graphOf(sources))).toEqual(
      [
        'src/auth/viewer.ts → src/server.ts: the composition root',
        'src/db/example.ts → ormconfig.ts: outside src/ (ormconfig.ts, migrations/)',
        'src/db/example.ts → src/consistency/cascades.ts: a feature folder',
        'src/db/example.ts → src/context.ts: the composition root',
        'src/db/example.ts → src/generated/schema-types.ts: the generated schema types',
        'src/db/example.ts → src/leaky.ts (reaches src/context.ts): the composition root',
        'src/db/example.ts → src/loaders.ts: the composition root',
        'src/db/example.ts → src/sessions/session.entity.ts: a feature folder',
        'src/db/example.ts → src/users/user.rows.ts: a feature folder',
        'src/live/feed.ts → src/messages/message.feed.ts: a feature folder',
      ].sort(),
    );
  });
});
