import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { Kind, parse } from 'graphql';
import { activityResolvers } from './activity/activity.resolvers';
import { audioUploadMutations } from './audio-uploads/audio-upload.mutations';
import { messageMutations } from './messages/message.mutations';
import { messageResolvers } from './messages/message.resolvers';
import { messageSubscriptions } from './messages/message.feed';
import { nodeSyncMutations } from './node-sync/node-sync.mutations';
import { nodeSyncResolvers } from './node-sync/node-sync.resolvers';
import { nodeResolvers } from './nodes/node.resolvers';
import { connectionResolvers } from './pagination/connection';
import { DateTimeScalar } from './scalars';
import { searchResolvers } from './search/search.resolvers';
import { sessionMutations } from './sessions/session.mutations';
import { sessionResolvers } from './sessions/session.resolvers';
import { sessionSubscriptions } from './sessions/session.feed';
import { skillMutations } from './skills/skill.mutations';
import { skillResolvers } from './skills/skill.resolvers';
import { userMutations } from './users/user.mutations';
import { userResolvers } from './users/user.resolvers';

/** `schema.graphql` at the repository root is the source of truth; found from src/ and dist/src/. */
export function schemaPath(): string {
  for (const dir of [path.join(__dirname, '..'), path.join(__dirname, '..', '..')]) {
    const file = path.join(dir, 'schema.graphql');
    if (existsSync(file)) return file;
  }
  throw new Error('schema.graphql not found next to the package');
}

export function typeDefs(): string {
  return readFileSync(schemaPath(), 'utf8');
}

/** Every feature's resolvers (reads), mutations (writes) and subscriptions, merged per type. */
export function resolvers() {
  const objectTypes = parse(typeDefs()).definitions.flatMap((d) => (d.kind === Kind.OBJECT_TYPE_DEFINITION ? [d.name.value] : []));
  const parts: Record<string, object>[] = [
    connectionResolvers(objectTypes),
    userResolvers,
    sessionResolvers,
    messageResolvers,
    skillResolvers,
    nodeSyncResolvers,
    nodeResolvers,
    searchResolvers,
    activityResolvers,
    userMutations,
    sessionMutations,
    messageMutations,
    skillMutations,
    nodeSyncMutations,
    sessionSubscriptions,
    messageSubscriptions,
    audioUploadMutations,
  ];
  const merged: Record<string, object> = {};
  for (const part of parts) {
    for (const [type, fields] of Object.entries(part)) merged[type] = { ...merged[type], ...fields };
  }
  return { DateTime: DateTimeScalar, ...merged };
}
