/** Distinct client-supplied names kept as label values per process; later names share `other`. */
export const MAX_NAME_LABELS = 100;
/** Longest label or log field made from a client-supplied name; a longer name is cut. */
export const MAX_NAME_LENGTH = 64;

/**
 * A client-supplied name (an `operationName`, whatever the transport) as a log field: a string cut
 * to MAX_NAME_LENGTH whole code points; anything else is `anonymous`. A log line is written once,
 * so only its length needs a bound.
 */
export function clientNameForLog(name: unknown): string {
  if (typeof name !== 'string' || name === '') return 'anonymous';
  if (name.length <= MAX_NAME_LENGTH) return name;
  let out = '';
  let count = 0;
  for (const codePoint of name) {
    if (count++ === MAX_NAME_LENGTH) break;
    out += codePoint;
  }
  return out;
}

/**
 * Client-supplied names as metric label values, bounded in length and in number. Every label value
 * is a time series kept for the life of the process, and these names are chosen by clients: 120
 * unique 100,000-character names once grew /metrics to 336 MB. So:
 * - only the name of an operation that actually ran is used (`executed`); a request refused
 *   before running (syntax, validation, limits, an unknown operation name) is `rejected`;
 * - it is cut like a log field (clientNameForLog);
 * - only the first `limit` distinct names get their own series, the rest share `other`.
 * One instance per registry; every transport (HTTP, WebSocket, SSE) labels through it.
 */
export function clientNameLabels(limit = MAX_NAME_LABELS): (executed: boolean, name: unknown) => string {
  const seen = new Set<string>();
  return (executed, name) => {
    if (!executed) return 'rejected';
    const cut = clientNameForLog(name);
    if (cut === 'anonymous' || seen.has(cut)) return cut;
    if (seen.size >= limit) return 'other';
    seen.add(cut);
    return cut;
  };
}
