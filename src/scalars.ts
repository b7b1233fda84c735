import { Kind, ValueNode } from 'graphql';
import { badField } from './errors';

// Inputs must state their offset, so a client's local time is never guessed.
const ISO_8601 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2})$/;

function parse(value: unknown): Date {
  if (typeof value !== 'string' || !ISO_8601.test(value) || Number.isNaN(Date.parse(value))) {
    throw badField('DateTime', 'must be an ISO-8601 date-time with an offset, e.g. 2026-11-26T08:00:00.000Z');
  }
  return new Date(value);
}

/** ISO-8601 in UTC with milliseconds. A plain resolver object, not a GraphQLScalarType: the
 * schema's own scalar (and its description from schema.graphql) stays, only behaviour is added. */
// What `Date#toISOString()` writes (and the read path's SQL formats): already the wire form.
const CANONICAL = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

export const DateTimeScalar = {
  serialize(value: unknown): string {
    // The read path keeps PostgreSQL's ISO text: no Date round trip for every timestamp served.
    if (typeof value === 'string' && CANONICAL.test(value)) return value;
    const date = value instanceof Date ? value : new Date(value as string);
    if (Number.isNaN(date.getTime())) throw new TypeError('DateTime cannot represent an invalid date');
    return date.toISOString();
  },
  parseValue: parse,
  parseLiteral(ast: ValueNode): Date {
    if (ast.kind !== Kind.STRING) throw badField('DateTime', 'must be a string');
    return parse(ast.value);
  },
};
