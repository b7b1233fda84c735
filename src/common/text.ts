// A lone UTF-16 surrogate cannot be encoded as UTF-8: PostgreSQL would store U+FFFD instead,
// and some validators (isEmail) throw on it.
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** Text PostgreSQL stores exactly as given: no NUL characters, no lone surrogates. */
export function isStorableText(value: string): boolean {
  return !value.includes('\u0000') && !LONE_SURROGATE.test(value);
}

/**
 * Code point order, which PostgreSQL's `COLLATE "C"` gives UTF-8 text: the one order of names in
 * lists a write answers from its own rows and a later read returns (JavaScript's `<` compares
 * UTF-16 units, which differs above U+FFFF; a locale's collation differs everywhere).
 */
export function byCodePoints(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
}

/** ASCII white space: tab, line feed, vertical tab, form feed, carriage return, space. */
const ASCII_SPACE_AT_ENDS = /^[\t\n\v\f\r ]+|[\t\n\v\f\r ]+$/g;

/**
 * The one trimming rule of the API (stated in schema.graphql where a field uses it): leading
 * and trailing ASCII white space goes; everything else (NBSP, U+FEFF, bidi and control
 * characters inside or at the ends) is kept exactly as sent.
 */
export function trimAsciiSpace(value: string): string {
  return value.replace(ASCII_SPACE_AT_ENDS, '');
}

/**
 * The email rule: trimmed as above, then ASCII letters lower-cased, so addresses compare
 * case-insensitively by equality of the stored form. Only A–Z change: a non-ASCII address is
 * refused by validation (IsEmailAddress), never rewritten (Unicode lower-casing changes lengths:
 * `İ` becomes two code points).
 */
export function normalizeEmail(value: string): string {
  return trimAsciiSpace(value).replace(/[A-Z]+/g, (letters) => letters.toLowerCase());
}

type Normalizer = (value: string) => string;
const NORMALIZERS = new WeakMap<object, Map<string, Normalizer>>();

/**
 * Declares a field's normalization on an input class: `validateInput` applies it to a string
 * before validating, so the limits hold for the value that is stored and nothing changes after.
 */
export function Normalized(normalize: Normalizer): PropertyDecorator {
  return (target, property) => {
    const own = NORMALIZERS.get(target) ?? new Map<string, Normalizer>();
    own.set(String(property), normalize);
    NORMALIZERS.set(target, own);
  };
}

/** Applies the normalizations declared on `input`'s class (and its base classes) to its string fields. */
export function normalizeFields(input: object): void {
  for (let proto = Object.getPrototypeOf(input); proto && proto !== Object.prototype; proto = Object.getPrototypeOf(proto)) {
    for (const [field, normalize] of NORMALIZERS.get(proto) ?? []) {
      const value = (input as Record<string, unknown>)[field];
      if (typeof value === 'string') (input as Record<string, unknown>)[field] = normalize(value);
    }
  }
}
