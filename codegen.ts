import type { CodegenConfig } from '@graphql-codegen/cli';

/**
 * `npm run codegen`: resolver types for the server and typed documents for the example client
 * (with its trusted-documents manifest), all from the hand-written schema.graphql. The output is committed; CI fails when it drifts.
 */
const config: CodegenConfig = {
  schema: 'schema.graphql',
  overwrite: true,
  hooks: { afterOneFileWrite: ['node scripts/mark-generated.js'] },
  generates: {
    // The schema's own types (enums, inputs, arguments) apart from the resolver types: entities and
    // SQL read them, and the resolver types import the context and the read models, which import
    // the entities; one file would tie every feature into one import cycle (test/import-cycles.test.ts).
    'src/generated/schema-types.ts': {
      plugins: ['typescript'],
      config: {
        scalars: { DateTime: { input: 'Date', output: 'Date | string' } },
        enumsAsTypes: true,
        avoidOptionals: false,
        maybeValue: 'T | null',
      },
    },
    'src/generated/resolvers-types.ts': {
      plugins: [{ add: { content: "import * as Types from './schema-types';" } }, 'typescript-resolvers'],
      config: {
        namespacedImportName: 'Types',
        useIndexSignature: false,
        contextType: '../context#Context',
        scalars: { DateTime: { input: 'Date', output: 'Date | string' } },
        mappers: {
          User: '../models#UserModel',
          Session: '../models#SessionModel',
          Message: '../models#MessageModel',
          Skill: '../models#SkillModel',
          NodeSync: '../models#NodeSyncModel',
          UserConnection: '../models#UserConnectionModel',
          SessionConnection: '../models#SessionConnectionModel',
          MessageConnection: '../models#MessageConnectionModel',
          SkillConnection: '../models#SkillConnectionModel',
          MessageSearchConnection: '../models#MessageSearchConnectionModel',
        },
        // Enums as string unions, defined here and nowhere else: the entities, the database enums and
        // the order and filter tables derive from them with `satisfies`, so a value added to the
        // schema is a type error until the code handles it (test/enum-exhaustiveness.test.ts).
        enumsAsTypes: true,
        avoidOptionals: false,
        maybeValue: 'T | null',
      },
    },
    // The client preset with persisted documents: typed documents that carry their id
    // (`__meta__.hash`, "sha256:<hex>") and the manifest a server loads with
    // HUB_TRUSTED_DOCUMENTS_FILE (gql/persisted-documents.json).
    'examples/dashboard-client/gql/': {
      documents: 'examples/dashboard-client/*.graphql',
      preset: 'client',
      presetConfig: { persistedDocuments: { hashAlgorithm: 'sha256' }, fragmentMasking: false },
      config: { scalars: { DateTime: 'string' }, enumsAsTypes: true },
    },
    // The MessageAdded subscription (follow.ts), typed on its own: kept out of the trusted-documents
    // manifest above, which POST /graphql serves (subscriptions run on the live transports).
    'examples/dashboard-client/live/generated.ts': {
      documents: 'examples/dashboard-client/live/*.graphql',
      plugins: ['typescript-operations', 'typed-document-node'],
      config: { scalars: { DateTime: 'string' }, enumsAsTypes: true },
    },
    // The live dashboard runs in a browser without graphql's printer: documents as typed strings,
    // each with its trusted-document id, and their manifest (what a hub in `require` mode loads).
    'examples/live-dashboard/gql/': {
      documents: 'examples/live-dashboard/*.graphql',
      preset: 'client',
      presetConfig: { persistedDocuments: { hashAlgorithm: 'sha256' }, fragmentMasking: false },
      config: { scalars: { DateTime: 'string' }, enumsAsTypes: true, documentMode: 'string' },
    },
  },
};

export default config;
