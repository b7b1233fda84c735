import http from 'node:http';
import { Pool } from 'pg';

/**
 * The floor: the 100-session Dashboard answered by one hand-written SQL statement that builds
 * the whole JSON response inside PostgreSQL, served by plain node:http. No GraphQL, no ORM, no
 * auth lookup: the physical limit for any server of this data on this machine.
 */
const ISO = `'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'`;
const ts = (column: string) => `to_char(${column} AT TIME ZONE 'UTC', ${ISO})`;

export const DASHBOARD_SQL = `
SELECT json_build_object('data', json_build_object('sessions', json_build_object(
  'totalCount', (SELECT count(*) FROM sessions WHERE deleted_at IS NULL),
  'pageInfo', json_build_object('hasNextPage', (SELECT count(*) > $1 FROM (SELECT 1 FROM sessions WHERE deleted_at IS NULL LIMIT $1 + 1) n),
                                'endCursor', NULL),
  'edges', (SELECT coalesce(json_agg(json_build_object('cursor', s.id, 'node', json_build_object(
      'id', s.id, 'title', s.title, 'isSyncing', s.is_syncing,
      'createdAt', ${ts('s.created_at')}, 'updatedAt', ${ts('s.updated_at')},
      'owner', (SELECT json_build_object('id', u.id, 'displayName', u.display_name) FROM users u WHERE u.id = s.user_id),
      'skills', (SELECT coalesce(json_agg(json_build_object('id', k.id, 'name', k.name) ORDER BY k.name, k.id), '[]')
                 FROM session_skills ss JOIN skills k ON k.id = ss.skill_id AND k.deleted_at IS NULL WHERE ss.session_id = s.id),
      'messageCount', (SELECT count(*) FROM messages m WHERE m.session_id = s.id AND m.deleted_at IS NULL),
      'lastMessage', (SELECT json_build_object('id', m.id, 'role', m.role, 'createdAt', ${ts('m.created_at')})
                      FROM messages m WHERE m.session_id = s.id AND m.deleted_at IS NULL
                      ORDER BY m.created_at DESC, m.id DESC LIMIT 1),
      'messages', json_build_object('nodes', (SELECT coalesce(json_agg(json_build_object(
                      'id', m.id, 'role', m.role, 'content', m.content, 'createdAt', ${ts('m.created_at')})), '[]')
                  FROM (SELECT * FROM messages m WHERE m.session_id = s.id AND m.deleted_at IS NULL
                        ORDER BY m.created_at DESC, m.id DESC LIMIT 3) m)),
      'nodeSync', (SELECT coalesce(json_agg(json_build_object('nodeId', n.node_id, 'status', n.status,
                      'updatedAt', ${ts('n.updated_at')}) ORDER BY n.node_id), '[]')
                   FROM session_node_sync n WHERE n.session_id = s.id)
    )) ORDER BY s.created_at DESC, s.id DESC), '[]')
    FROM (SELECT * FROM sessions WHERE deleted_at IS NULL ORDER BY created_at DESC, id DESC LIMIT $1) s)
)))::text AS body`;

export function startFloor(databaseUrl: string, port: number, poolSize = 10): Promise<http.Server> {
  const pool = new Pool({ connectionString: databaseUrl, max: poolSize });
  const server = http.createServer(async (req, res) => {
    const first = Number(new URL(req.url ?? '/', 'http://x').searchParams.get('first') ?? 100);
    try {
      const { rows } = await pool.query(DASHBOARD_SQL, [first]);
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
  void startFloor(url, Number(process.env.PORT ?? 4999)).then(() => console.log(`floor listening on ${process.env.PORT ?? 4999}`));
}
