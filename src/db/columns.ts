import { ColumnOptions, JoinColumn, ManyToOne, ObjectType } from 'typeorm';

/** Every timestamp is `timestamptz(3)`: JS dates carry milliseconds, and one precision
 * everywhere keeps a session's delete stamp equal to the stamp on its messages. */
export function timestamp(name: string, options: ColumnOptions = {}): ColumnOptions {
  return { name, type: 'timestamptz', precision: 3, ...options };
}

/**
 * The row a foreign key `column` points to, under the constraint `constraint`. Every foreign key
 * of the data model cascades on delete (the contract), written here once; the entity subscribers
 * do the same cascades at the ORM level, so no path depends on the database's alone.
 */
export function CascadingParent<T>(
  parent: () => ObjectType<T>,
  column: string,
  constraint: string,
  options: { nullable?: boolean } = {},
): PropertyDecorator {
  return (target, property) => {
    JoinColumn({ name: column, foreignKeyConstraintName: constraint })(target, property);
    ManyToOne(parent, { onDelete: 'CASCADE', nullable: options.nullable ?? false })(target, property);
  };
}
