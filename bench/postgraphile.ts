/**
 * PostGraphile 5 (Amber preset) over the bench database, in a process of its own with its own
 * pool of the same size as the server's: the generic GraphQL-over-PostgreSQL engine this project
 * measures itself against (`npm run bench` starts it beside the server).
 */
import { existsSync } from 'node:fs';
import http from 'node:http';
import { createRequire } from 'node:module';
import path from 'node:path';

// PostGraphile 5 uses `Promise.withResolvers` (Node 22); Node 20 lacks it. Polyfilled before it loads.
const P = Promise as unknown as { withResolvers?: () => unknown };
P.withResolvers ??= function withResolvers<T>() {
  let resolve!: (value: T) => void;
  let reject!: (reason?: unknown) => void;
  const promise = new Promise<T>((res, rej) => ((resolve = res), (reject = rej)));
  return { promise, resolve, reject };
};

/**
 * PostGraphile's natural equivalent of the canonical dashboard query (see run.ts). Amber names
 * a table's own id `rowId` (`id` is the Relay node id) and orders by the primary key last, so
 * the order is stated in full, as ours is (`created_at DESC, id DESC`).
 */
export const POSTGRAPHILE_DASHBOARD = `query PgDashboard($first: Int!) {
  allSessions(first: $first, orderBy: [CREATED_AT_DESC, ROW_ID_DESC], condition: { deletedAt: null }) {
    nodes {
      rowId title isSyncing createdAt
      userByUserId { rowId displayName }
      sessionSkillsBySessionId { nodes { skillBySkillId { rowId name } } }
      messagesBySessionId(first: 3, orderBy: [CREATED_AT_DESC, ROW_ID_DESC], condition: { deletedAt: null }) {
        totalCount
        nodes { rowId role content createdAt }
      }
    }
  }
}`;

/**
 * PostGraphile is not among the hub's dependencies: `npm run bench` installs it into
 * bench/postgraphile-deps/node_modules first (bench/postgraphile-deps/install.js), found from
 * bench/ and from dist/bench/.
 */
function requirePostGraphile(): NodeJS.Require {
  for (const dir of [path.join(__dirname, 'postgraphile-deps'), path.join(__dirname, '..', '..', 'bench', 'postgraphile-deps')]) {
    if (existsSync(path.join(dir, 'node_modules', 'postgraphile'))) return createRequire(path.join(dir, 'package.json'));
  }
  throw new Error('PostGraphile is not installed: run `npm run bench` (or `node bench/postgraphile-deps/install.js`)');
}

export async function startPostGraphile(databaseUrl: string, port: number, poolSize: number): Promise<http.Server> {
  const load = requirePostGraphile();
  const { postgraphile } = load('postgraphile');
  const { PostGraphileAmberPreset } = load('postgraphile/presets/amber');
  const { makePgService } = load('postgraphile/adaptors/pg');
  const { grafserv } = load('postgraphile/grafserv/node');
  const preset = {
    extends: [PostGraphileAmberPreset],
    // Amber offers `condition`/`orderBy` only on indexed columns; `deleted_at` is covered by partial
    // indexes only (as a deployment would tag it, every column may be filtered and ordered on).
    disablePlugins: ['PgIndexBehaviorsPlugin'],
    pgServices: [makePgService({ connectionString: databaseUrl, schemas: ['public'], poolConfig: { max: poolSize } })],
    grafserv: { graphqlPath: '/graphql', watch: false, graphiql: false },
    grafast: { explain: false },
  };
  const pgl = postgraphile(preset);
  const serv = pgl.createServ(grafserv);
  const server = http.createServer();
  await serv.addTo(server);
  return new Promise((resolve) => server.listen(port, '127.0.0.1', () => resolve(server)));
}

if (require.main === module) {
  const url = process.env.DATABASE_URL;
  if (!url) throw new Error('DATABASE_URL is required');
  const port = Number(process.env.PORT ?? 5678);
  void startPostGraphile(url, port, Number(process.env.POOL_SIZE ?? 10)).then(() =>
    console.log(`PostGraphile listening on ${port}`),
  );
}
