/**
 * Issue #23: every patch of a private TypeORM or pg API lives in src/db/typeorm-internals.ts, and
 * this test fails when an upgrade changes what it patches or reads: a method renamed, removed or
 * given another arity, a private field gone. The libraries are loaded fresh here, unpatched (this
 * file imports no data source, so no guard or held-row patch is installed).
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { Client } from 'pg';
import { DataSource, ObjectLiteral } from 'typeorm';
import { EntityPersistExecutor } from 'typeorm/persistence/EntityPersistExecutor';
import { SubjectDatabaseEntityLoader } from 'typeorm/persistence/SubjectDatabaseEntityLoader';
import { parsedStatements, PATCHABLE, patchInternal, transactionDepth } from '../src/db/typeorm-internals';

const patched = Object.entries(PATCHABLE).flatMap(([owner, { proto, members }]) =>
  Object.entries(members).map(([member, arity]): [string, number, object, string] => [`${owner}.${member}`, arity, proto, member]),
);

describe('the TypeORM and pg internals we patch', () => {
  it.each(patched)('%s is still a method of arity %d', (_name, arity, proto, member) => {
    const method: unknown = Reflect.get(proto, member);
    expect(typeof method).toBe('function');
    expect((method as Function).length).toBe(arity);
  });

  it('still have the private fields we read', () => {
    const dataSource = new DataSource({ type: 'postgres' });
    const runner = dataSource.createQueryRunner();
    expect(Reflect.get(runner, 'transactionDepth')).toBe(0);
    expect(transactionDepth(runner)).toBe(0);
    expect(typeof parsedStatements(new Client())).toBe('object');

    const subjects: ObjectLiteral[] = [];
    expect(new SubjectDatabaseEntityLoader(runner, subjects as never)).toMatchObject({ queryRunner: runner, subjects });
    const entity = {};
    expect(new EntityPersistExecutor(dataSource, runner, 'save', undefined, entity)).toMatchObject({ queryRunner: runner, entity });
    const builder = dataSource.createQueryBuilder().update('sessions').set({ title: 'x' });
    expect(builder.expressionMap).toMatchObject({ callListeners: true, queryType: 'update' });
    expect(builder.expressionMap.mainAlias).toMatchObject({ hasMetadata: false, tablePath: 'sessions' });
  });

  it('refuses to patch a member it does not list, or one the library lacks', () => {
    expect(() => patchInternal('EntityManager', 'save', (f) => f)).toThrow('not listed in PATCHABLE');
    const { members } = PATCHABLE.EntityManager as { members: Record<string, number> };
    members.noSuchMethod = 0;
    try {
      expect(() => patchInternal('EntityManager', 'noSuchMethod', (f) => f)).toThrow('TypeORM has no EntityManager.noSuchMethod');
    } finally {
      delete members.noSuchMethod;
    }
  });

  it('are reached from no other file of src/ (no class prototype, no deep import)', () => {
    const src = path.resolve(__dirname, '..', 'src');
    const offenders = readdirSync(src, { recursive: true, encoding: 'utf8' })
      .filter((f) => f.endsWith('.ts') && f !== path.join('db', 'typeorm-internals.ts') && !f.startsWith('generated'))
      .filter((f) => /'(?:typeorm|pg)\/|\.prototype\b/.test(readFileSync(path.join(src, f), 'utf8').replace(/\b(?:GraphQLError|Object)\.prototype\b/g, '')));
    expect(offenders).toEqual([]);
  });
});
