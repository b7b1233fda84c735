import type { ApolloServerPlugin, BaseContext } from '@apollo/server';
import { GraphQLFormattedError } from 'graphql';
import { ErrorCode } from '../errors';

/**
 * The bytes `JSON.stringify(value)` would produce, counted without producing them, stopping as
 * soon as the count passes `limit` (then some number above it is returned). Strings are scanned
 * for the characters JSON escapes (`\u0001` is six bytes) and counted in UTF-8. Shared values count
 * each time they appear, as serializing repeats them.
 */
export function jsonSize(value: unknown, limit = Infinity): number {
  let total = 0;
  const stack: unknown[] = [value];
  while (stack.length > 0 && total <= limit) {
    const item = stack.pop();
    if (item === null || item === undefined) total += 4;
    else if (typeof item === 'string') total += stringSize(item);
    else if (typeof item === 'number') total += Number.isFinite(item) ? String(item).length : 4;
    else if (typeof item === 'boolean') total += item ? 4 : 5;
    else if (Array.isArray(item)) {
      total += 2 + Math.max(0, item.length - 1);
      for (let i = item.length - 1; i >= 0; i -= 1) stack.push(item[i]);
    } else if (typeof item === 'object') {
      const toJSON = (item as { toJSON?: () => unknown }).toJSON;
      if (typeof toJSON === 'function') {
        stack.push(toJSON.call(item));
        continue;
      }
      // Own enumerable keys, as JSON.stringify reads them, without an array of keys per object.
      const record = item as Record<string, unknown>;
      let members = 0;
      for (const key in record) {
        if (!hasOwn(record, key)) continue;
        const v = record[key];
        if (v === undefined || typeof v === 'function') continue;
        members += 1;
        total += stringSize(key) + 1;
        stack.push(v);
      }
      total += 2 + Math.max(0, members - 1);
    }
  }
  return total;
}

const hasOwn = (record: object, key: string) => Object.prototype.hasOwnProperty.call(record, key);

/** Printable ASCII that JSON writes as it is: a character each. */
const PLAIN_ASCII = /^[\x20\x21\x23-\x5b\x5d-\x7e]*$/;
/** What JSON escapes, and surrogates (a pair is four bytes, a lone one escaped): counted one by one. */
const ESCAPED_OR_SURROGATE = /[\x00-\x1f"\\\ud800-\udfff]/;

function stringSize(text: string): number {
  // Most texts of an answer (ids, names, contents) need no escaping: measured natively.
  if (PLAIN_ASCII.test(text)) return text.length + 2;
  if (!ESCAPED_OR_SURROGATE.test(text)) return Buffer.byteLength(text, 'utf8') + 2;
  let size = 2;
  for (let i = 0; i < text.length; i += 1) {
    const code = text.charCodeAt(i);
    if (code < 0x20) size += code === 8 || code === 9 || code === 10 || code === 12 || code === 13 ? 2 : 6;
    else if (code === 0x22 || code === 0x5c) size += 2;
    else if (code < 0x80) size += 1;
    else if (code < 0x800) size += 2;
    else if (code >= 0xd800 && code <= 0xdbff) {
      // A surrogate pair: four bytes in UTF-8; a lone surrogate is escaped (six).
      const next = text.charCodeAt(i + 1);
      if (next >= 0xdc00 && next <= 0xdfff) {
        size += 4;
        i += 1;
      } else size += 6;
    } else if (code >= 0xdc00 && code <= 0xdfff) size += 6;
    else size += 3;
  }
  return size;
}

/** JSON's longest form of one character: a control character is written as `\u0001`, six bytes. */
export const MAX_JSON_BYTES_PER_CHAR = 6;

/**
 * Whether an answer whose long texts can hold `textChars` characters (the cost model's estimate,
 * query-cost.ts) can be larger than `maxBytes` (HUB_MAX_RESPONSE_BYTES): the rule that makes a
 * request heavy (operation-guard.ts). Only long texts can make an answer that large within the
 * cost limit (50,000 objects of short fields are a few MB), and only once built does it show
 * whether they were long: a heavy request reads its rows in full before the size check can
 * refuse it. At the default 10 MiB, a page of up to 54 message contents (192,000 bytes each) is
 * not heavy: the canonical dashboard and examples/dashboard-client's up to `first: 18` (three
 * contents a session; at 100, 57.6 MB), examples/apollo-client's up to 13 (four), the live
 * dashboard's first screen of 25 (4.8 MB), a session's 50 messages (9.6 MB), a search page (3.8 MB).
 */
export function canExceedResponseLimit(textChars: number, maxBytes: number): boolean {
  return textChars * MAX_JSON_BYTES_PER_CHAR > maxBytes;
}

/** The answer sent instead of one over the limit: BAD_USER_INPUT, reason RESPONSE_TOO_LARGE, the limit's variable. */
export function responseTooLarge(maxBytes: number, executedMutation: boolean): GraphQLFormattedError {
  const message = executedMutation
    ? `The mutation was applied, but its answer is larger than ${maxBytes} bytes (HUB_MAX_RESPONSE_BYTES) and was not sent: select fewer fields to read the result`
    : `The answer is larger than ${maxBytes} bytes (HUB_MAX_RESPONSE_BYTES) and was not sent: ask for smaller pages, fewer fields or fewer aliases`;
  return {
    message,
    extensions: {
      code: ErrorCode.BAD_USER_INPUT,
      reason: 'RESPONSE_TOO_LARGE',
      limit: 'HUB_MAX_RESPONSE_BYTES',
      maxBytes,
      validation: [{ field: 'query', message }],
    },
  };
}

/**
 * Bounds every GraphQL answer over HTTP at `maxBytes` of JSON (HUB_MAX_RESPONSE_BYTES). The result
 * of execution holds the rows' strings by reference, so it is small in memory however large its
 * JSON would be; its size is counted (jsonSize, stopping at the limit) before Apollo serializes it,
 * and an answer over the limit is replaced by one coded error (data null): the large text is never
 * built, so no request can end in `RangeError: Invalid string length` or a 500. The query cost
 * (query-cost.ts, long texts included) bounds what execution may gather in the first place.
 */
export function responseSizePlugin(maxBytes: number): ApolloServerPlugin<BaseContext> {
  return {
    async requestDidStart() {
      return {
        async willSendResponse({ response, operation }) {
          if (response.body.kind !== 'single') return;
          const result = response.body.singleResult;
          if (jsonSize(result, maxBytes) <= maxBytes) return;
          const applied = operation?.operation === 'mutation' && result.data != null;
          response.body.singleResult = { data: null, errors: [responseTooLarge(maxBytes, applied)] };
          // A query did nothing else: the request is refused. A mutation's write happened: not a 4xx.
          response.http.status = applied ? 200 : 400;
        },
      };
    },
  };
}
