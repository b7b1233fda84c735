import { ColumnOptions } from 'typeorm';

/** Every timestamp is `timestamptz(3)`: JS dates carry milliseconds, and one precision
 * everywhere keeps a session's delete stamp equal to the stamp on its messages. */
export function timestamp(name: string, options: ColumnOptions = {}): ColumnOptions {
  return { name, type: 'timestamptz', precision: 3, ...options };
}
