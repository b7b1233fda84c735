import { factories } from '../../factories';
import { GqlOptions, GqlResult, TestServer } from '../../harness';
import { Fixtures } from '../../security/matrix-operations';
import { liveWs } from './clients';

/**
 * Runs one authorization-matrix row that is a subscription, over graphql-ws, as the row's caller:
 * subscribe; then the owner posts a message to the fixture session (the write every such row is
 * about); then a sentinel the caller is sure to receive (a session of their own for
 * `sessionChanged`, a second message for `messageAdded` and `messageChanged`). Events arrive in commit order, so what
 * came before the sentinel is everything the write produced for this caller: `data[field]` is
 * that list (empty when the caller may not see the session). A refused connection (close 4401)
 * answers like POST /graphql does: status 401 and UNAUTHENTICATED.
 */
export async function runSubscription(
  t: TestServer,
  query: string,
  variables: Record<string, unknown>,
  options: GqlOptions,
  fx: Fixtures,
): Promise<GqlResult> {
  const field = (['messageAdded', 'messageChanged'] as const).find((name) => query.includes(name)) ?? 'sessionChanged';
  const authorization = options.authorization ?? (options.as ? `Bearer ${t.tokenFor(options.as)}` : undefined);
  const live = liveWs(t.url, authorization ? authorization.replace(/^Bearer\s+/i, '') : null);
  const base = { sql: NaN, statements: [], headers: new Headers() };
  const hub = t.server.live.hub;
  const before = hub.subscriberCount;
  try {
    const received = live.subscribe(query, variables);
    const deadline = Date.now() + 10_000;
    while (hub.subscriberCount <= before && received.error === undefined && !live.closed && !received.completed) {
      if (Date.now() > deadline) throw new Error('the subscription neither started nor failed');
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    if (live.closed?.code === 4401) {
      return { ...base, status: 401, errors: [{ message: live.closed.reason, extensions: { code: 'UNAUTHENTICATED' } }] };
    }
    if (received.error !== undefined) return { ...base, status: 200, errors: received.error };

    const f = factories(t.dataSource);
    await f.message(fx.session, { content: `trigger ${fx.tag}` });
    let isSentinel: (value: any) => boolean;
    if (field === 'sessionChanged') {
      const own = await f.session(options.as!);
      isSentinel = (value) => value?.sessionId === own.id;
    } else {
      const sentinel = await f.message(fx.session, { content: `sentinel ${fx.tag}` });
      isSentinel = (value) => (value?.node?.id ?? value?.messageId) === sentinel.id;
    }
    const index = () => received.results.findIndex((r) => isSentinel(r.data?.[field]));
    const until = Date.now() + 10_000;
    while (index() < 0) {
      if (Date.now() > until) throw new Error(`no sentinel event: ${JSON.stringify(received.results)}`);
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    let events = received.results.slice(0, index());
    if (field === 'sessionChanged') {
      // Other test files write at the same time and an admin sees their sessions too: keep the
      // events about the fixture users' sessions (a member seeing any of the owner's is a leak).
      const rows: { id: string }[] = await t.dataSource.query('SELECT id FROM sessions WHERE user_id = ANY($1::uuid[])', [
        [fx.owner.id, fx.other.id, fx.admin.id],
      ]);
      const ours = new Set(rows.map((r) => r.id));
      events = events.filter((r) => !r.data || ours.has(r.data[field]?.sessionId));
    }
    const errors = events.flatMap((r) => r.errors ?? []);
    return { ...base, status: 200, data: { [field]: events.map((r) => r.data?.[field]) }, errors: errors.length ? errors : undefined };
  } finally {
    await live.dispose();
  }
}
