import { randomUUID } from 'node:crypto';
import { DataSource } from 'typeorm';
import { Message, MessageRole } from '../src/messages/message.entity';
import { NodeSync, SyncStatus } from '../src/node-sync/node-sync.entity';
import { Session } from '../src/sessions/session.entity';
import { SessionSkill } from '../src/skills/session-skill.entity';
import { Skill } from '../src/skills/skill.entity';
import { Role, User } from '../src/users/user.entity';

/**
 * Fresh rows for one test, saved through the entity paths (so subscribers see them). Unique
 * names mean tests never collide and never need the database truncated.
 */
export function factories(dataSource: DataSource) {
  // 64 random bits: a run creates tens of thousands of users and skills in one database, and 32 bits
  // (the first 8 hex digits) collided on a unique email once in CI.
  const unique = () => randomUUID().replace(/-/g, '').slice(0, 16);
  // A row built deleted was created no later than its deletion (test/invariants.ts checks it).
  const born = <T extends { createdAt?: Date; deletedAt?: Date | null }>(props: T): T =>
    props.deletedAt && !props.createdAt ? { createdAt: props.deletedAt, ...props } : props;
  return {
    user(props: Partial<User> = {}): Promise<User> {
      const tag = unique();
      return dataSource.getRepository(User).save(
        dataSource.getRepository(User).create({
          email: `user-${tag}@test.hub`,
          displayName: `User ${tag}`,
          role: Role.MEMBER,
          ...props,
        }),
      );
    },
    admin(props: Partial<User> = {}): Promise<User> {
      return this.user({ role: Role.ADMIN, ...props });
    },
    session(owner: User, props: Partial<Session> = {}): Promise<Session> {
      const repo = dataSource.getRepository(Session);
      return repo.save(repo.create({ userId: owner.id, title: `Session ${unique()}`, ...born(props) }));
    },
    message(session: Session, props: Partial<Message> = {}): Promise<Message> {
      const repo = dataSource.getRepository(Message);
      return repo.save(repo.create({ sessionId: session.id, role: MessageRole.USER, content: `Hello ${unique()}`, ...born(props) }));
    },
    skill(props: Partial<Skill> = {}): Promise<Skill> {
      const repo = dataSource.getRepository(Skill);
      return repo.save(repo.create({ name: `skill-${unique()}`, description: 'A test skill', ...born(props) }));
    },
    link(session: Session, skill: Skill): Promise<SessionSkill> {
      const repo = dataSource.getRepository(SessionSkill);
      return repo.save(repo.create({ sessionId: session.id, skillId: skill.id }));
    },
    nodeSync(session: Session, nodeId: string, status: SyncStatus, error: string | null = null): Promise<NodeSync> {
      const repo = dataSource.getRepository(NodeSync);
      return repo.save(repo.create({ sessionId: session.id, nodeId, status, error }));
    },
  };
}

export type Factories = ReturnType<typeof factories>;
