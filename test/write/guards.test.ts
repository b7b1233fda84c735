import fs from 'node:fs';
import path from 'node:path';
import { DataSource, EntityManager, EntitySubscriberInterface, EntityTarget, InsertEvent, ObjectLiteral } from 'typeorm';
import { cascadeWrites, UnobservedWriteError } from '../../src/db/guards';
import { ENTITIES } from '../../ormconfig';
import { Message } from '../../src/messages/message.entity';
import { NodeSync } from '../../src/node-sync/node-sync.entity';
import { Session } from '../../src/sessions/session.entity';
import { SessionSkill } from '../../src/skills/session-skill.entity';
import { Skill } from '../../src/skills/skill.entity';
import { User } from '../../src/users/user.entity';
import { useTestServer } from '../harness';


const { t, f } = useTestServer({}, { invariants: true });

/** Every write path TypeORM offers that hands subscribers no entity (or none with an id). */
function unobservedPaths(ds: DataSource, entity: EntityTarget<ObjectLiteral>, table: string): [string, () => Promise<unknown>][] {
  const repo = ds.getRepository(entity);
  const m: EntityManager = ds.manager;
  const key = ds.getMetadata(entity).primaryColumns[0].propertyName;
  const where = { [key]: '00000000-0000-0000-0000-000000000000' } as never;
  const paths: [string, () => Promise<unknown>][] = [
    ['Repository.update', () => repo.update(where, {} as never)],
    ['Repository.delete', () => repo.delete(where)],
    ['EntityManager.update', () => m.update(entity, where, {} as never)],
    ['EntityManager.delete', () => m.delete(entity, where)],
    ['QueryBuilder update', () => m.createQueryBuilder().update(entity).set({} as never).where('1 = 0').execute()],
    ['QueryBuilder delete', () => m.createQueryBuilder().delete().from(entity).where('1 = 0').execute()],
    ['QueryBuilder update by table name', () => m.createQueryBuilder().update(table).set({ id: () => 'id' } as never).where('1 = 0').execute()],
    ['QueryBuilder delete by table name', () => m.createQueryBuilder().delete().from(table).where('1 = 0').execute()],
    ['QueryBuilder insert without listeners', () => m.createQueryBuilder().insert().into(entity).values({}).callListeners(false).execute()],
    ['Repository.clear', () => repo.clear()],
    ['Repository.upsert', () => repo.upsert({} as never, { conflictPaths: [key] as never })],
    ['QueryBuilder delete in a transaction', () => ds.transaction((tm) => tm.createQueryBuilder().delete().from(entity).where('1 = 0').execute())],
  ];
  if (ds.getMetadata(entity).deleteDateColumn) {
    paths.push(
      ['Repository.softDelete', () => repo.softDelete(where)],
      ['Repository.restore', () => repo.restore(where)],
      ['EntityManager.softDelete', () => m.softDelete(entity, where)],
      ['QueryBuilder softDelete', () => m.createQueryBuilder().softDelete().from(entity).where('1 = 0').execute()],
      ['QueryBuilder restore', () => m.createQueryBuilder().restore().from(entity).where('1 = 0').execute()],
    );
  }
  if (ds.getMetadata(entity).findColumnWithPropertyName('version')) {
    paths.push(['Repository.increment', () => repo.increment(where, 'version', 1)]);
  }
  return paths;
}

describe('write guards', () => {
  it('guard every entity of the model', () => {
    expect(ENTITIES).toEqual(expect.arrayContaining([User, Session, Message, Skill, SessionSkill, NodeSync]));
  });

  for (const [entity, table] of [
    [User, 'users'],
    [Session, 'sessions'],
    [Message, 'messages'],
    [Skill, 'skills'],
    [SessionSkill, 'session_skills'],
    [NodeSync, 'session_node_sync'],
  ] as const) {
    it(`refuse every write path subscribers cannot see on ${table}`, async () => {
      const refused: string[] = [];
      const paths = unobservedPaths(t.dataSource, entity, table);
      for (const [name, run] of paths) {
        if (await run().then(() => false, (error) => error instanceof UnobservedWriteError)) refused.push(name);
      }
      expect(refused).toEqual(paths.map(([name]) => name));
    });
  }

  it('name the path and the table in the error', async () => {
    await expect(t.dataSource.getRepository(Session).softDelete({ title: 'x' })).rejects.toThrow(/softDelete on "sessions"/);
  });

  it('leave the entity paths working: save, softRemove, recover, remove', async () => {
    const owner = await f.user();
    const repo = t.dataSource.getRepository(Session);
    const session = await f.session(owner);
    const { id } = session;
    session.title = 'Renamed';
    await repo.save(session);
    await repo.softRemove(session);
    await repo.recover(session);
    await repo.remove(session);
    expect(await repo.findOne({ where: { id }, withDeleted: true })).toBeNull();
  });

  it('let set-based cascade SQL through only inside cascadeWrites', async () => {
    const owner = await f.user();
    const session = await f.session(owner, { title: 'before' });
    const update = () =>
      t.dataSource.createQueryBuilder().update(Session).set({ title: 'after' }).where('id = :id', { id: session.id }).callListeners(false).execute();
    await expect(update()).rejects.toThrow(UnobservedWriteError);
    await cascadeWrites(update);
    expect((await t.dataSource.getRepository(Session).findOneByOrFail({ id: session.id })).title).toBe('after');
    // The hatch does not outlive its callback.
    await expect(update()).rejects.toThrow(UnobservedWriteError);
  });

  // Issue #13: an ad-hoc UPDATE of another session's is_syncing from inside a subscriber passed,
  // because any listener-less builder inside persistence was trusted.
  describe('inside a subscriber', () => {
    const adHoc: Record<string, (manager: EntityManager, otherId: string) => Promise<unknown>> = {
      'a listener-less QueryBuilder UPDATE': (manager, otherId) =>
        manager.createQueryBuilder().update(Session).set({ isSyncing: true }).where('id = :otherId', { otherId }).callListeners(false).execute(),
      'a QueryBuilder DELETE': (manager, otherId) => manager.createQueryBuilder().delete().from(NodeSync).where('session_id = :otherId', { otherId }).execute(),
      'a raw UPDATE': (manager, otherId) => manager.query(`UPDATE sessions SET is_syncing = true WHERE id = $1`, [otherId]),
      'a raw DELETE inside a CTE': (manager, otherId) =>
        manager.query(`WITH gone AS (DELETE FROM session_node_sync WHERE session_id = $1 RETURNING 1) SELECT count(*) FROM gone`, [otherId]),
    };
    for (const [name, write] of Object.entries(adHoc)) {
      it(`refuse ${name} of another session, and roll the whole write back`, async () => {
        const owner = await f.user();
        const [mine, other] = [await f.session(owner), await f.session(owner)];
        await f.nodeSync(other, 'node-b', 'SYNCED' as never);
        const ds = t.dataSource;
        const intruder: EntitySubscriberInterface<NodeSync> = {
          listenTo: () => NodeSync,
          afterInsert: (event: InsertEvent<NodeSync>) => (event.entity.sessionId === mine.id ? write(event.manager, other.id).then(() => undefined) : undefined),
        };
        ds.subscribers.push(intruder);
        try {
          const save = ds.transaction((m) => m.save(m.create(NodeSync, { sessionId: mine.id, nodeId: 'node-a', status: 'SYNCING' as never })));
          await expect(save).rejects.toThrow(UnobservedWriteError);
        } finally {
          ds.subscribers.splice(ds.subscribers.indexOf(intruder), 1);
        }
        expect(await ds.query('SELECT id, is_syncing FROM sessions WHERE id = ANY($1) ORDER BY id', [[mine.id, other.id]])).toEqual(
          [mine.id, other.id].sort().map((id) => ({ id, is_syncing: false })),
        );
        expect(await ds.query('SELECT node_id FROM session_node_sync WHERE session_id = ANY($1) ORDER BY node_id', [[mine.id, other.id]])).toEqual([
          { node_id: 'node-b' },
        ]);
      });
    }

    it('let the named cascades through (the same write without the intruder recomputes isSyncing)', async () => {
      const owner = await f.user();
      const mine = await f.session(owner);
      await t.dataSource.transaction((m) => m.save(m.create(NodeSync, { sessionId: mine.id, nodeId: 'node-a', status: 'SYNCING' as never })));
      expect(await t.dataSource.query('SELECT is_syncing FROM sessions WHERE id = $1', [mine.id])).toEqual([{ is_syncing: true }]);
    });
  });

  it('keep raw write SQL on entity tables out of src/ except the cascades, the seed and the stream sweep', () => {
    const root = path.resolve(__dirname, '../../src');
    // The stream sweep fails stale streams of many sessions in one set-based statement, and a group
    // of appends writes its messages in one (their files say how they lock and what they cascade).
    const allowed = new Set(['consistency/cascades.ts', 'seed/seed.ts', 'messages/fail-stale-streams.ts', 'messages/append-group.ts']);
    const files = fs.readdirSync(root, { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('.ts') && !f.startsWith('generated'));
    // Code only (comments stripped); a row lock (`FOR [NO KEY] UPDATE`) is not a write. Only the
    // entities' tables count: infrastructure tables (write positions, persisted queries) have no
    // subscribers and no cascades to bypass.
    const code = (file: string) => fs.readFileSync(path.join(root, file), 'utf8').replace(/\/\*[\s\S]*?\*\//g, '').replace(/^\s*\/\/.*$/gm, '');
    const tables = t.dataSource.entityMetadatas.map((m) => m.tableName).join('|');
    const write = new RegExp(`(?<!FOR |KEY )\\b(?:UPDATE|DELETE\\s+FROM|INSERT\\s+INTO|TRUNCATE)\\s+"?(?:${tables})"?\\s`);
    const offenders = files.filter((file) => !allowed.has(file) && write.test(code(file)));
    expect(files.filter((file) => write.test(code(file))).sort()).toEqual([...allowed].sort());
    expect(offenders).toEqual([]);
  });

  it('refuse to set derived or cascade-owned columns through save', async () => {
    const owner = await f.user();
    await expect(f.session(owner, { isSyncing: true })).rejects.toThrow(/derived/);
    const session = await f.session(owner);
    session.deletedAt = new Date();
    await expect(t.dataSource.getRepository(Session).save(session)).rejects.toThrow(/softRemove/);
    const skill = await f.skill();
    skill.deletedAt = new Date();
    await expect(t.dataSource.getRepository(Skill).save(skill)).rejects.toThrow(/softRemove/);
  });

  it('stamp a message inserted into a soft-deleted session as deleted with it', async () => {
    const owner = await f.user();
    const session = await f.session(owner);
    await t.dataSource.getRepository(Session).softRemove(session);
    const message = await f.message(session);
    const [row] = await t.dataSource.query('SELECT deleted_at FROM messages WHERE id = $1', [message.id]);
    expect(row.deleted_at.getTime()).toBe(session.deletedAt!.getTime());
  });
});
