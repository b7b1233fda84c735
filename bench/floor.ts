import http from 'node:http';
import { Pool } from 'pg';

/**
 * The floor: a dashboard answered by one hand-written SQL statement that builds the whole JSON
 * response inside PostgreSQL (prepared once per connection), served by plain node:http. No
 * GraphQL, no ORM, no auth lookup: the fastest single statement we could write for the same
 * response, so the physical limit for any server of this data on this machine.
 *
 * Shaped after the statement PostGraphile 5 compiles the canonical query to (correlated
 * sub-selects per session over the page, owners joined), with the JSON built in PostgreSQL and
 * only what the response needs: no total count, no cursors.
 */
const ISO = `'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'`;
const ts = (column: string) => `to_char(${column} AT TIME ZONE 'UTC', ${ISO})`;

/** `GET /?first=N`: the canonical dashboard (run.ts), `{ data: { sessions: { nodes } } }`. */
export const CANONICAL_SQL = `
SELECT json_build_object('data', json_build_object('sessions', json_build_object('nodes', coalesce(json_agg(json_build_object(
    'id', s.id, 'title', s.title, 'isSyncing', s.is_syncing, 'createdAt', ${ts('s.created_at')},
    'owner', json_build_object('id', u.id, 'displayName', u.display_name),
    'skills', (SELECT coalesce(json_agg(json_build_object('id', k.id, 'name', k.name) ORDER BY k.name, k.id), '[]')
               FROM session_skills ss JOIN skills k ON k.id = ss.skill_id AND k.deleted_at IS NULL WHERE ss.session_id = s.id),
    'messageCount', (SELECT count(*) FROM messages m WHERE m.session_id = s.id AND m.deleted_at IS NULL),
    'messages', json_build_object('nodes', (SELECT coalesce(json_agg(json_build_object(
                    'id', m.id, 'role', m.role, 'content', m.content, 'createdAt', ${ts('m.created_at')})), '[]')
                FROM (SELECT m.id, m.role, m.content, m.created_at FROM messages m WHERE m.session_id = s.id AND m.deleted_at IS NULL
                      ORDER BY m.created_at DESC, m.id DESC LIMIT 3) m))
  ) ORDER BY s.created_at DESC, s.id DESC), '[]'))))::text AS body
FROM (SELECT * FROM sessions WHERE deleted_at IS NULL ORDER BY created_at DESC, id DESC LIMIT $1) s
JOIN users u ON u.id = s.user_id`;

/** `GET /full?first=N`: the full Dashboard of examples/dashboard-client (its total count included). */
export const DASHBOARD_SQL = `
SELECT json_build_object('data', json_build_object('sessions', json_build_object(
  'totalCount', (SELECT count(*) FROM sessions WHERE deleted_at IS NULL),
  'pageInfo', json_build_object('hasNextPage', (SELECT count(*) > $1 FROM (SELECT 1 FROM sessions WHERE deleted_at IS NULL LIMIT $1 + 1) n),
                                'endCursor', NULL),
  'edges', coalesce(json_agg(json_build_object('cursor', s.id, 'node', json_build_object(
      'id', s.id, 'title', s.title, 'isSyncing', s.is_syncing,
      'createdAt', ${ts('s.created_at')}, 'updatedAt', ${ts('s.updated_at')},
      'owner', json_build_object('id', u.id, 'displayName', u.display_name),
      'skills', (SELECT coalesce(json_agg(json_build_object('id', k.id, 'name', k.name) ORDER BY k.name, k.id), '[]')
                 FROM session_skills ss JOIN skills k ON k.id = ss.skill_id AND k.deleted_at IS NULL WHERE ss.session_id = s.id),
      'messageCount', (SELECT count(*) FROM messages m WHERE m.session_id = s.id AND m.deleted_at IS NULL),
      'lastMessage', (SELECT json_build_object('id', m.id, 'role', m.role, 'createdAt', ${ts('m.created_at')})
                      FROM messages m WHERE m.session_id = s.id AND m.deleted_at IS NULL
                      ORDER BY m.created_at DESC, m.id DESC LIMIT 1),
      'messages', json_build_object('nodes', (SELECT coalesce(json_agg(json_build_object(
                      'id', m.id, 'role', m.role, 'content', m.content, 'createdAt', ${ts('m.created_at')})), '[]')
                  FROM (SELECT m.id, m.role, m.content, m.created_at FROM messages m WHERE m.session_id = s.id AND m.deleted_at IS NULL
                        ORDER BY m.created_at DESC, m.id DESC LIMIT 3) m)),
      'nodeSync', (SELECT coalesce(json_agg(json_build_object('nodeId', n.node_id, 'status', n.status,
                      'updatedAt', ${ts('n.updated_at')}) ORDER BY n.node_id), '[]')
                   FROM session_node_sync n WHERE n.session_id = s.id)
    )) ORDER BY s.created_at DESC, s.id DESC), '[]')
)))::text AS body
FROM (SELECT * FROM sessions WHERE deleted_at IS NULL ORDER BY created_at DESC, id DESC LIMIT $1) s
JOIN users u ON u.id = s.user_id`;

export function startFloor(databaseUrl: string, port: number, poolSize = 10): Promise<http.Server> {
  const pool = new Pool({ connectionString: databaseUrl, max: poolSize });
  const server = http.createServer(async (req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    const first = Number(url.searchParams.get('first') ?? 100);
    const full = url.pathname === '/full';
    try {
      // Named: prepared once per connection, then only bound and executed.
      const { rows } = await pool.query({ name: full ? 'full' : 'canonical', text: full ? DASHBOARD_SQL : CANONICAL_SQL, values: [first] });
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(rows[0].body);
    } catch (error) {
      res.writeHead(500, { 'content-type': 'text/plain' });
      res.end(String(error));
    }
  });
  server.on('close', () => void pool.end());
  return new Promise((resolve) => server.listen(port, '127.0.0.1', () => resolve(server)));
}

if (require.main === module) {
  const url = process.env.DATABASE_URL;
  if (!url) throw new Error('DATABASE_URL is required');
  void startFloor(url, Number(process.env.PORT ?? 4999), Number(process.env.POOL_SIZE ?? 10)).then(() =>
    console.log(`floor listening on ${process.env.PORT ?? 4999}`),
  );
}
