/**
 * PostGraphile 5 (Amber preset) over the bench database, in a process of its own with its own
 * pool of the same size as the server's: the generic GraphQL-over-PostgreSQL engine this project
 * measures itself against (`npm run bench` starts it beside the server).
 */
import http from 'node:http';

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

export async function startPostGraphile(databaseUrl: string, port: number, poolSize: number): Promise<http.Server> {
  /* eslint-disable @typescript-eslint/no-require-imports */
  const { postgraphile } = require('postgraphile');
  const { PostGraphileAmberPreset } = require('postgraphile/presets/amber');
  const { makePgService } = require('postgraphile/adaptors/pg');
  const { grafserv } = require('postgraphile/grafserv/node');
  /* eslint-enable @typescript-eslint/no-require-imports */
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
