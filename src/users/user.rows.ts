import { User } from './user.entity';

/** The users columns under `prefix`-ed names, so a user can ride along in another row. */
export function userColumns(alias: string, prefix = ''): string {
  return [
    `${alias}.id AS "${prefix}id"`,
    `${alias}.email AS "${prefix}email"`,
    `${alias}.display_name AS "${prefix}display_name"`,
    `${alias}.role AS "${prefix}role"`,
    `${alias}.created_at AS "${prefix}created_at"`,
    `${alias}.updated_at AS "${prefix}updated_at"`,
  ].join(', ');
}

export function toUser(row: Record<string, any>, prefix = ''): User {
  return Object.assign(new User(), {
    id: row[`${prefix}id`],
    email: row[`${prefix}email`],
    displayName: row[`${prefix}display_name`],
    role: row[`${prefix}role`],
    createdAt: row[`${prefix}created_at`],
    updatedAt: row[`${prefix}updated_at`],
  });
}
