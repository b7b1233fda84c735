import { CreateDateColumn, Entity, Index, PrimaryColumn } from 'typeorm';
import { CascadingParent, timestamp } from '../db/columns';
import { Session } from '../sessions/session.entity';
import { Skill } from './skill.entity';

/** The link between a session and a skill of the catalogue. */
@Entity('session_skills')
@Index('session_skills_skill_id_session_id_idx', ['skillId', 'sessionId'])
export class SessionSkill {
  @PrimaryColumn({ name: 'session_id', type: 'uuid', primaryKeyConstraintName: 'session_skills_pkey' })
  sessionId: string;

  @PrimaryColumn({ name: 'skill_id', type: 'uuid', primaryKeyConstraintName: 'session_skills_pkey' })
  skillId: string;

  @CascadingParent(() => Session, 'session_id', 'session_skills_session_id_fkey')
  session?: Session;

  @CascadingParent(() => Skill, 'skill_id', 'session_skills_skill_id_fkey')
  skill?: Skill;

  @CreateDateColumn(timestamp('created_at'))
  createdAt: Date;
}
