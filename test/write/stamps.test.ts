import fc from 'fast-check';
import { Session } from '../../src/sessions/session.entity';
import { codes, GqlResult, useTestServer } from '../harness';
import { DELETE_MESSAGE, DELETE_SESSION, POST_MESSAGE, RESTORE_SESSION } from './documents';
import { findViolations, stampInvariants } from '../invariants';

const { t, f } = useTestServer({}, { invariants: true });

type Step = { kind: 'post' | 'delete' | 'restore' | 'deleteMessage'; delayMs: number };
const stepArb: fc.Arbitrary<Step> = fc.record({
  kind: fc.constantFrom('post', 'post', 'post', 'delete', 'restore', 'deleteMessage'),
  delayMs: fc.nat({ max: 4 }),
});

describe('delete stamps', () => {
  it('check every soft-deletable table for rows deleted before they were created', () => {
    expect(Object.keys(stampInvariants(t.dataSource)).sort()).toEqual(
      expect.arrayContaining(['messages deleted before they were created', 'sessions deleted before they were created', 'skills deleted before they were created']),
    );
  });

  // The race of issue #12 item 7, made certain: the deleting transaction starts, then messages are
  // posted (and committed) through the API, then the same transaction soft-deletes the session.
  // Its own clock is older than those messages; the stamp must still not precede any of them.
  it('stamp a session later than every message it takes, even ones created after its transaction began', async () => {
    await fc.assert(
      fc.asyncProperty(fc.nat({ max: 3 }), fc.nat({ max: 3 }), fc.nat({ max: 20 }), async (before, during, pauseMs) => {
        const member = await f.user();
        const session = await f.session(member);
        for (let i = 0; i < before; i += 1) await f.message(session);
        const posted: string[] = [];
        await t.dataSource.transaction(async (manager) => {
          await manager.query('SELECT now()'); // the transaction's clock starts here
          for (let i = 0; i < during; i += 1) {
            await new Promise((resolve) => setTimeout(resolve, pauseMs));
            const r = await t.gql(POST_MESSAGE, { input: { sessionId: session.id, role: 'USER', content: `late ${i}` } }, { as: member });
            posted.push(r.data.postMessage.id);
          }
          const current = await manager.findOneOrFail(Session, { where: { id: session.id } });
          await manager.softRemove(current);
        });
        const rows: { id: string; created_at: Date; deleted_at: Date }[] = await t.dataSource.query(
          'SELECT m.id, m.created_at, m.deleted_at FROM messages m WHERE m.session_id = $1',
          [session.id],
        );
        expect(rows.filter((m) => posted.includes(m.id))).toHaveLength(during);
        for (const m of rows) expect(m.deleted_at.getTime()).toBeGreaterThanOrEqual(m.created_at.getTime());
        expect(await findViolations(t.dataSource)).toEqual({});
      }),
      { numRuns: 15 },
    );
  }, 120_000);

  // Issue #12 item 7: a postMessage racing deleteSession was stamped deleted 1 ms before its own
  // creation (the delete's transaction started before the post's, but locked the session after it).
  it('never stamp a message deleted before it was created, whatever postMessage, deleteSession, restoreSession and deleteMessage interleave', async () => {
    let runs = 0;
    const outcomes: Record<string, number> = {};
    await fc.assert(
      fc.asyncProperty(fc.array(stepArb, { minLength: 4, maxLength: 10 }), fc.boolean(), async (steps, startDeleted) => {
        runs += 1;
        const member = await f.user();
        const session = await f.session(member);
        const earlier = [await f.message(session), await f.message(session)];
        if (startDeleted) await t.gql(DELETE_SESSION, { id: session.id }, { as: member });
        const results: GqlResult[] = await Promise.all(
          steps.map(async (step, i) => {
            await new Promise((resolve) => setTimeout(resolve, step.delayMs));
            if (step.kind === 'post') return t.gql(POST_MESSAGE, { input: { sessionId: session.id, role: 'USER', content: `m${i}` } }, { as: member });
            if (step.kind === 'deleteMessage') return t.gql(DELETE_MESSAGE, { id: earlier[i % 2].id }, { as: member });
            return t.gql(step.kind === 'delete' ? DELETE_SESSION : RESTORE_SESSION, { id: session.id }, { as: member });
          }),
        );
        for (const r of results) {
          const key = codes(r).join('+') || 'ok';
          outcomes[key] = (outcomes[key] ?? 0) + 1;
          expect(r.status).toBeLessThan(500);
          expect(codes(r).filter((c) => c !== 'NOT_FOUND' && c !== 'CONFLICT')).toEqual([]);
        }
        expect(await findViolations(t.dataSource)).toEqual({});
      }),
      { numRuns: 25 },
    );
    expect(runs).toBeGreaterThanOrEqual(25);
    expect(outcomes.ok).toBeGreaterThan(0);
  }, 120_000);
});
