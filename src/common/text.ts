// A lone UTF-16 surrogate cannot be encoded as UTF-8: PostgreSQL would store U+FFFD instead,
// and some validators (isEmail) throw on it.
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** Text PostgreSQL stores exactly as given: no NUL characters, no lone surrogates. */
export function isStorableText(value: string): boolean {
  return !value.includes('\u0000') && !LONE_SURROGATE.test(value);
}
