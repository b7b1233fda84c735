import { Column, CreateDateColumn, DeleteDateColumn, Entity, Index, PrimaryGeneratedColumn } from 'typeorm';
import { timestamp } from '../db/columns';

/** A capability from the hub's global catalogue. A deleted skill leaves the catalogue
 * (and loses its links) but keeps its row, so its name is unique among live skills only. */
@Entity('skills')
@Index('skills_name_live_key', ['name'], { unique: true, where: 'deleted_at IS NULL' })
@Index('skills_created_at_id_idx', ['createdAt', 'id'])
export class Skill {
  @PrimaryGeneratedColumn('uuid', { primaryKeyConstraintName: 'skills_pkey' })
  id: string;

  @Column({ type: 'varchar', length: 64 })
  name: string;

  @Column({ type: 'text', nullable: true })
  description: string | null;

  @CreateDateColumn(timestamp('created_at'))
  createdAt: Date;

  @DeleteDateColumn(timestamp('deleted_at', { nullable: true }))
  deletedAt: Date | null;
}
