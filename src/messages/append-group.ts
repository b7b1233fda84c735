import { GraphQLError } from 'graphql';
import { EntityManager } from 'typeorm';
import { Viewer } from '../auth/viewer';
import { touchSessions } from '../consistency/cascades';
import { lockMessagesOfViewers } from '../consistency/locks';
import { Written } from '../consistency/prime-after-write';
import { refreshHeld } from '../db/held-rows';
import { queryRows } from '../db/query-rows';
import { badField, conflict, notFound } from '../errors';
import { Message } from './message.entity';
import { CONTENT_MAX_LENGTH } from './message.inputs';
import { characterCount } from './message-usage';
import { assertStreaming } from './streaming';

/** One validated append of a group, with the viewer who asked for it. */
export interface Append {
  viewer: Viewer;
  id: string;
  delta: string;
  offset: number;
}

/** What one append of a group came to: the rows its answer describes, or its own error. */
export type AppendOutcome = { written: Required<Pick<Written, 'message' | 'session' | 'owner'>> } | { error: GraphQLError };

/**
 * Applies a group of appends in the caller's transaction (src/messages/append-queue.ts commits
 * it), each exactly as a lone `appendMessageContent` would: one outcome per append, in order. The
 * sessions and messages are locked in one statement (`lockMessagesOfViewers`, the lock order),
 * each for its own viewer; then each append is checked on its own locked message (absent,
 * deleted or invisible: NOT_FOUND; not STREAMING or another offset: CONFLICT; past 32,000
 * characters: BAD_USER_INPUT), and a refused one changes nothing and fails no other. The
 * accepted ones are written by one UPDATE, each stamped on its session's message clock (a
 * VOLATILE function, so two messages of one session in the statement still get distinct, ordered
 * stamps), and their sessions' `updatedAt` moves by one statement: five statements with BEGIN
 * and COMMIT, whatever the group's size (the appends name distinct messages: the queue sees to it).
 *
 * The UPDATE is set-based raw SQL, so TypeORM's subscribers see no event: the one cascade an
 * update of messages has (`touchSessions`) is called here by name. The trigger announces every
 * accepted append with its own offset and length, in notifications cut below 7,500 bytes.
 */
export async function applyAppends(manager: EntityManager, appends: readonly Append[]): Promise<AppendOutcome[]> {
  const locked = await lockMessagesOfViewers(manager, appends);
  const outcomes = appends.map((append, i): AppendOutcome => {
    try {
      const found = locked[i];
      if (!found || found.message.deletedAt) throw notFound('Message', append.id);
      checkAppend(found.message, append);
      return { written: found };
    } catch (error) {
      if (error instanceof GraphQLError) return { error };
      throw error;
    }
  });
  const accepted = appends.flatMap((append, i) => {
    const outcome = outcomes[i];
    return 'written' in outcome ? [{ append, ...outcome.written }] : [];
  });
  if (accepted.length === 0) return outcomes;
  const rows = await queryRows<{ id: string; changed_at: Date }>(
    manager,
    `UPDATE messages m SET content = m.content || w.delta, changed_at = hub_message_created_at(m.session_id)
     FROM unnest($1::uuid[], $2::text[]) AS w(id, delta)
     WHERE m.id = w.id
     RETURNING m.id, m.changed_at`,
    [accepted.map((a) => a.append.id), accepted.map((a) => a.append.delta)],
  );
  if (rows.length !== accepted.length) throw new Error(`appended to ${rows.length} of ${accepted.length} locked messages`);
  for (const { append, message } of accepted) message.content += append.delta;
  refreshHeld(manager, Message, rows);
  await touchSessions(manager, accepted.map((a) => ({ id: a.session.id, entity: a.session })));
  return outcomes;
}

/** The rules of one append on its locked message; throws the coded error of the first it breaks. */
function checkAppend(message: Message, append: Append): void {
  assertStreaming(message);
  const length = characterCount(message.content);
  if (append.offset !== length) {
    throw conflict(`Message ${append.id} is ${length} characters long, not ${append.offset}: append at offset ${length}`, { length });
  }
  const grown = length + characterCount(append.delta);
  if (grown > CONTENT_MAX_LENGTH) {
    throw badField(
      'delta',
      `would make the content ${grown.toLocaleString('en-US')} characters long; at most ${CONTENT_MAX_LENGTH.toLocaleString('en-US')} are allowed`,
    );
  }
}
