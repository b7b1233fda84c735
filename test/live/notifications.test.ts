import { randomUUID } from 'node:crypto';
import fc from 'fast-check';
import { coalesce, DetailAssembler, LiveEvent, parseNotification, SessionEvent } from '../../src/live/notifications';

/** A session's K/N entries may span several NOTIFY payloads (the trigger cuts them at 7,500 bytes). */

const payload = (entries: unknown[]) => JSON.stringify({ at: '2026-11-29T08:00:00.000Z', e: entries });

describe('purge details', () => {
  it('joins the skills and nodes announced before a PURGED entry (removed) or a state change (had) to it, however the payloads are cut', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.record({ skills: fc.nat(4), nodes: fc.nat(3), marked: fc.boolean(), moved: fc.boolean() }),
          { minLength: 1, maxLength: 5 },
        ),
        fc.array(fc.nat(), { maxLength: 6 }),
        (purges, cuts) => {
          const owner = randomUUID();
          const expected = new Map<string, Pick<SessionEvent, 'removed' | 'had'>>();
          const entries: unknown[] = [];
          for (const { skills, nodes, marked, moved } of purges) {
            const id = randomUUID();
            const skillIds = Array.from({ length: skills }, () => randomUUID());
            const nodeIds = Array.from({ length: nodes }, (_, i) => `node-${i}`);
            // A PURGED entry without the trailing 1 (an older database) announces nothing before it.
            if (marked && moved) {
              // A deletion names what the session had (H/O), and removed nothing.
              entries.push(...skillIds.map((k) => ['H', id, k]), ...nodeIds.map((n) => ['O', id, n]));
              entries.push(['S', 'D', id, owner, 0, 1, 1, 1]);
              expected.set(id, { removed: { skillIds: [], nodeIds: [] }, had: { skillIds, nodeIds } });
            } else if (marked) {
              entries.push(...skillIds.map((k) => ['K', id, k]), ...nodeIds.map((n) => ['N', id, n]));
              entries.push(['S', 'P', id, owner, 0, 1, 1]);
              expected.set(id, { removed: { skillIds, nodeIds } });
            } else {
              entries.push(['S', 'P', id, owner, 1, 0]);
              expected.set(id, {});
            }
          }
          const bounds = [...new Set(cuts.map((c) => c % (entries.length + 1)))].sort((a, b) => a - b);
          const assembler = new DetailAssembler();
          const events: LiveEvent[] = [];
          let from = 0;
          for (const to of [...bounds, entries.length]) {
            events.push(...assembler.accept(parseNotification(payload(entries.slice(from, to)))));
            from = to;
          }
          expect(events.every((e) => e.type === 'session')).toBe(true);
          const links = (e: SessionEvent) => ({ ...(e.removed && { removed: e.removed }), ...(e.had && { had: e.had }) });
          expect(new Map(events.map((e) => [(e as SessionEvent).sessionId, links(e as SessionEvent)]))).toEqual(expected);
        },
      ),
    );
  });

  it('drops malformed entries and keeps the others', () => {
    const id = randomUUID();
    const events = parseNotification(payload([['K', 'not-a-uuid', randomUUID()], ['N', id, 7], ['S', 'P', id, randomUUID(), 0, 0, 1], 'x', null]));
    expect(events).toEqual([expect.objectContaining({ type: 'session', kind: 'PURGED', sessionId: id, removed: { skillIds: [], nodeIds: [] } })]);
    expect(parseNotification('{"e": 5}')).toEqual([]);
    expect(parseNotification('not json')).toEqual([]);
  });
});

describe('coalescing a batch', () => {
  const ids = [randomUUID(), randomUUID()];
  const owner = randomUUID();
  const skills = [randomUUID(), randomUUID()];
  const event = fc.record({
    session: fc.nat(1),
    kind: fc.constantFrom('CREATED' as const, 'UPDATED' as const, 'DELETED' as const, 'RESTORED' as const, 'PURGED' as const),
    deleted: fc.boolean(),
    syncing: fc.boolean(),
    removedSkills: fc.subarray([0, 1]),
    removedNodes: fc.subarray(['node-a', 'node-b']),
  });

  it('keeps, for each session, every state before and every removal of the events it drops (a filter left mid-batch still hears)', () => {
    fc.assert(
      fc.property(fc.array(event, { minLength: 1, maxLength: 8 }), (specs) => {
        const events: SessionEvent[] = specs.map((s) => ({
          type: 'session',
          kind: s.kind,
          sessionId: ids[s.session],
          ownerId: owner,
          before: [{ deleted: s.deleted, syncing: s.syncing }],
          removed: { skillIds: s.removedSkills.map((i) => skills[i]), nodeIds: s.removedNodes },
          at: new Date(0),
        }));
        const out = coalesce(events) as SessionEvent[];
        for (const id of ids) {
          const input = events.filter((e) => e.sessionId === id);
          const kept = out.filter((e) => e.sessionId === id);
          // Every kind but repeated UPDATEDs survives; at most one UPDATED, and none beside another kind.
          expect(kept.filter((e) => e.kind !== 'UPDATED')).toEqual(expect.arrayContaining(input.filter((e) => e.kind !== 'UPDATED').map((e) => expect.objectContaining({ kind: e.kind }))));
          expect(kept.filter((e) => e.kind === 'UPDATED').length).toBe(input.length === 0 ? 0 : input.every((e) => e.kind === 'UPDATED') ? 1 : 0);
          for (const survivor of kept) {
            for (const e of input) {
              expect(survivor.before).toEqual(expect.arrayContaining(e.before!));
              expect(survivor.removed!.skillIds).toEqual(expect.arrayContaining(e.removed!.skillIds));
              expect(survivor.removed!.nodeIds).toEqual(expect.arrayContaining(e.removed!.nodeIds));
            }
          }
        }
      }),
    );
  });
});
