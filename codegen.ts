import type { CodegenConfig } from '@graphql-codegen/cli';

/**
 * `npm run codegen`: resolver types for the server and a typed document for the example client,
 * both from the hand-written schema.graphql. The output is committed; CI fails when it drifts.
 */
const config: CodegenConfig = {
  schema: 'schema.graphql',
  overwrite: true,
  hooks: { afterOneFileWrite: ['node scripts/mark-generated.js'] },
  generates: {
    'src/generated/resolvers-types.ts': {
      plugins: ['typescript', 'typescript-resolvers'],
      config: {
        useIndexSignature: false,
        contextType: '../context#Context',
        scalars: { DateTime: { input: 'Date', output: 'Date | string' } },
        mappers: {
          User: '../users/user.entity#User as UserModel',
          Session: '../sessions/session.entity#Session as SessionModel',
          Message: '../messages/message.entity#Message as MessageModel',
          Skill: '../skills/skill.entity#Skill as SkillModel',
          NodeSync: '../node-sync/node-sync.entity#NodeSync as NodeSyncModel',
          UserConnection: '../models#UserConnectionModel',
          SessionConnection: '../models#SessionConnectionModel',
          MessageConnection: '../models#MessageConnectionModel',
          SkillConnection: '../models#SkillConnectionModel',
        },
        enumValues: {
          Role: '../users/user.entity#Role',
          MessageRole: '../messages/message.entity#MessageRole',
          SyncStatus: '../node-sync/node-sync.entity#SyncStatus',
        },
        enumsAsTypes: false,
        avoidOptionals: false,
        maybeValue: 'T | null',
      },
    },
    'examples/dashboard-client/generated.ts': {
      documents: 'examples/dashboard-client/*.graphql',
      plugins: ['typescript-operations', 'typed-document-node'],
      config: { scalars: { DateTime: 'string' }, enumsAsTypes: true },
    },
  },
};

export default config;
