import { DataSource, EntityManager, EntityTarget, ObjectLiteral } from 'typeorm';
import { cascadeWrites, UnobservedWriteError } from '../../src/db/guards';
import { ENTITIES } from '../../ormconfig';
import { Message } from '../../src/messages/message.entity';
import { NodeSync } from '../../src/node-sync/node-sync.entity';
import { Session } from '../../src/sessions/session.entity';
import { SessionSkill } from '../../src/skills/session-skill.entity';
import { Skill } from '../../src/skills/skill.entity';
import { User } from '../../src/users/user.entity';
import { writeSuite } from './setup';

const { t, f } = writeSuite();

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
      const paths = unobservedPaths(t().dataSource, entity, table);
      for (const [name, run] of paths) {
        if (await run().then(() => false, (error) => error instanceof UnobservedWriteError)) refused.push(name);
      }
      expect(refused).toEqual(paths.map(([name]) => name));
    });
  }

  it('name the path and the table in the error', async () => {
    await expect(t().dataSource.getRepository(Session).softDelete({ title: 'x' })).rejects.toThrow(/softDelete on "sessions"/);
  });

  it('leave the entity paths working: save, softRemove, recover, remove', async () => {
    const owner = await f().user();
    const repo = t().dataSource.getRepository(Session);
    const session = await f().session(owner);
    const { id } = session;
    session.title = 'Renamed';
    await repo.save(session);
    await repo.softRemove(session);
    await repo.recover(session);
    await repo.remove(session);
    expect(await repo.findOne({ where: { id }, withDeleted: true })).toBeNull();
  });

  it('let set-based cascade SQL through only inside cascadeWrites', async () => {
    const owner = await f().user();
    const session = await f().session(owner, { title: 'before' });
    const update = () =>
      t().dataSource.createQueryBuilder().update(Session).set({ title: 'after' }).where('id = :id', { id: session.id }).callListeners(false).execute();
    await expect(update()).rejects.toThrow(UnobservedWriteError);
    await cascadeWrites(update);
    expect((await t().dataSource.getRepository(Session).findOneByOrFail({ id: session.id })).title).toBe('after');
    // The hatch does not outlive its callback.
    await expect(update()).rejects.toThrow(UnobservedWriteError);
  });

  it('refuse to set derived or cascade-owned columns through save', async () => {
    const owner = await f().user();
    await expect(f().session(owner, { isSyncing: true })).rejects.toThrow(/derived/);
    const session = await f().session(owner);
    session.deletedAt = new Date();
    await expect(t().dataSource.getRepository(Session).save(session)).rejects.toThrow(/softRemove/);
    const skill = await f().skill();
    skill.deletedAt = new Date();
    await expect(t().dataSource.getRepository(Skill).save(skill)).rejects.toThrow(/softRemove/);
  });

  it('stamp a message inserted into a soft-deleted session as deleted with it', async () => {
    const owner = await f().user();
    const session = await f().session(owner);
    await t().dataSource.getRepository(Session).softRemove(session);
    const message = await f().message(session);
    const [row] = await t().dataSource.query('SELECT deleted_at FROM messages WHERE id = $1', [message.id]);
    expect(row.deleted_at.getTime()).toBe(session.deletedAt!.getTime());
  });
});
