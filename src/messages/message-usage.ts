import type { TokenUsage } from '../generated/schema-types';
import type { Message } from './message.entity';

type UsageColumns = Pick<Message, 'inputTokens' | 'outputTokens' | 'model'>;

/** A reported usage as the message's columns (all null when none was reported). */
export function usageColumns(usage: { inputTokens: number; outputTokens: number; model?: string | null } | null | undefined): UsageColumns {
  return usage
    ? { inputTokens: usage.inputTokens, outputTokens: usage.outputTokens, model: usage.model ?? null }
    : { inputTokens: null, outputTokens: null, model: null };
}

/** `Message.usage`: null when no usage was reported (the counts are null together, a check says so). */
export function usageOf(message: UsageColumns): TokenUsage | null {
  return message.inputTokens == null ? null : { inputTokens: message.inputTokens, outputTokens: message.outputTokens!, model: message.model };
}

/** Characters as the API counts them (the 32,000-character limit, append offsets): Unicode code
 * points, as PostgreSQL's `char_length` counts them, not UTF-16 units. */
export function characterCount(text: string): number {
  let count = 0;
  for (let i = 0; i < text.length; i++) {
    const unit = text.charCodeAt(i);
    // A high surrogate followed by a low one is one code point (stored text has no lone ones).
    if (unit >= 0xd800 && unit <= 0xdbff && i + 1 < text.length) {
      const next = text.charCodeAt(i + 1);
      if (next >= 0xdc00 && next <= 0xdfff) i++;
    }
    count++;
  }
  return count;
}
