import { conflict } from '../errors';
import { Message, MessageStatus } from './message.entity';

/** Appends and finishes apply to a message still being written; any other is CONFLICT, with its status. */
export function assertStreaming(message: Message): void {
  if (message.status !== MessageStatus.STREAMING) {
    throw conflict(`Message ${message.id} is ${message.status}, not STREAMING: its stream has ended`, { status: message.status });
  }
}

/**
 * Stamps a change of a streamed message (an append, a finish) from its session's message clock
 * (`hub_message_created_at`, migration StreamedMessages): strictly after every post, deletion and
 * change of the session, under the session's lock the writer holds, so `changed_at` order is
 * commit order. The UPDATE evaluates it (TypeORM inlines a function value), naming the row's own
 * `session_id`, so the statement's text is the same for every message.
 */
export function stampOnSessionClock(message: Message): void {
  (message as { changedAt: unknown }).changedAt = () => 'hub_message_created_at(session_id)';
}
