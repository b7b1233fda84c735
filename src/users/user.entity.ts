import { Column, CreateDateColumn, Entity, Index, PrimaryGeneratedColumn, UpdateDateColumn } from 'typeorm';
import { SchemaEnum } from '../common/schema-enum';
import { timestamp } from '../db/columns';
import type { Role as SchemaRole } from '../generated/schema-types';

/** The schema's `Role`, stored as the database enum `user_role` (see SchemaEnum). */
export const Role = { ADMIN: 'ADMIN', MEMBER: 'MEMBER' } as const satisfies SchemaEnum<SchemaRole>;
export type Role = SchemaRole;

/** A person or service account of the hub. Emails are stored lower-cased. */
@Entity('users')
@Index('users_email_key', ['email'], { unique: true })
@Index('users_created_at_id_idx', ['createdAt', 'id'])
export class User {
  @PrimaryGeneratedColumn('uuid', { primaryKeyConstraintName: 'users_pkey' })
  id: string;

  @Column({ type: 'varchar', length: 254 })
  email: string;

  @Column({ name: 'display_name', type: 'varchar', length: 100 })
  displayName: string;

  @Column({ type: 'enum', enum: Role, enumName: 'user_role', default: Role.MEMBER })
  role: Role;

  @CreateDateColumn(timestamp('created_at'))
  createdAt: Date;

  @UpdateDateColumn(timestamp('updated_at'))
  updatedAt: Date;
}
