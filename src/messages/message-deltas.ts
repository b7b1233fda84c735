import { Context } from '../context';
import { MessageChangedEvent } from '../live/notifications';
import { tailKey } from './message-tails';

/** `text` from character `start` to `end` (code points, as offsets count them). */
export function sliceCharacters(text: string, start: number, end: number): string {
  let units = 0;
  let index = 0;
  let from = -1;
  for (const character of text) {
    if (index === start) from = units;
    if (index === end) return text.slice(from, units);
    units += character.length;
    index++;
  }
  if (from < 0 && index === start) from = units;
  return from < 0 ? '' : text.slice(from);
}

/** Each message's content from a character offset on, as read by `readTails`. */
export type Tails = Map<string, { from: number; tail: string }>;

/**
 * The text of the appends a batch announced, for the viewer: per message the content from the
 * smallest offset announced to its end, through the viewer's `messageTail` loader (one statement
 * for the batch, whatever the number of appends and of viewers following them).
 */
export async function readTails(ctx: Context, events: MessageChangedEvent[]): Promise<Tails> {
  const from = new Map<string, number>();
  for (const event of events) from.set(event.messageId, Math.min(from.get(event.messageId) ?? event.offset, event.offset));
  const read = await Promise.all([...from].map(([id, offset]) => ctx.loaders.messageTail.load(tailKey(id, offset))));
  return new Map([...from.keys()].flatMap((id, i) => (read[i] ? [[id, read[i]!] as const] : [])));
}

/** The text one announced append added, from the batch's tails; undefined when its message is gone. */
export function deltaOf(tails: Tails, event: MessageChangedEvent): string | undefined {
  const read = tails.get(event.messageId);
  if (!read) return undefined;
  const start = event.offset - read.from;
  return sliceCharacters(read.tail, start, start + event.length);
}
