import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { buildSchema, getNamedType, GraphQLObjectType, isObjectType } from 'graphql';
import jwt from 'jsonwebtoken';
import { schemaPath } from '../../src/schema';
import { codes, GqlOptions, GqlResult, useTestServer } from '../harness';
import { runSubscription } from '../live/support/matrix-subscription';
import {
  buildFixtures,
  Caller,
  CALLER_LABEL,
  CALLERS,
  Fixtures,
  fixtureState,
  MATRIX,
  Outcome,
  outcomeLabel,
  Row,
  TYPE_FIELDS,
  UNAUTHENTICATED,
} from './matrix-operations';

/**
 * Issue 5, item 1: every query, mutation and row-reaching type field, run as anonymous, with a bad
 * token, as the owning member, as another member and as an admin, against fresh fixtures per case.
 * The table lives in ./matrix-operations.ts; adding an operation to schema.graphql without adding
 * its rows fails the completeness test below.
 */

const audioDir = mkdtempSync(path.join(os.tmpdir(), 'hub-matrix-audio-'));
const { t, f } = useTestServer({ HUB_AUDIO_DIR: audioDir });
afterAll(() => rmSync(audioDir, { recursive: true, force: true }));

/** A well-formed HS256 token for the admin's id, signed with a secret the server does not know. */
function forgedToken(fx: Fixtures): string {
  return jwt.sign({ sub: fx.admin.id }, 'a-forged-secret-that-the-server-never-saw!!', { algorithm: 'HS256', expiresIn: 600 });
}

function optionsFor(caller: Caller, fx: Fixtures): GqlOptions {
  switch (caller) {
    case 'anonymous':
      return {};
    case 'badToken':
      return { authorization: `Bearer ${forgedToken(fx)}` };
    default:
      return { as: fx[caller] };
  }
}

function expectedFor(row: Row, caller: Caller): Outcome {
  return caller === 'anonymous' || caller === 'badToken' ? UNAUTHENTICATED : row.expect[caller];
}

/** The value at `path` under `data`; `null` as soon as a parent on the way is `null`. */
function valueAt(data: unknown, path: string[]): unknown {
  let value: any = data;
  for (const key of path) {
    if (value === null || value === undefined) return value;
    value = value[key];
  }
  return value;
}

function expectEmpty(value: any) {
  if (typeof value === 'number') expect(value).toBe(0);
  else if (Array.isArray(value)) expect(value).toEqual([]);
  else {
    expect(value).toEqual(expect.objectContaining({ totalCount: 0, nodes: [] }));
  }
}

/** Nothing of the owner's rows shows up in a response that is not supposed to carry data. */
function expectNoLeak(result: GqlResult, fx: Fixtures) {
  const body = JSON.stringify(result.data ?? null);
  for (const secret of [fx.session.id, fx.message.id, fx.owner.id, fx.owner.email, fx.session.title, fx.message.content]) {
    expect(body).not.toContain(secret);
  }
}

async function assertOutcome(row: Row, caller: Caller, outcome: Outcome, fx: Fixtures) {
  if (row.prepare) await row.prepare(fx, t);
  const { query, variables } = row.build(fx);
  const isMutation = /^\s*mutation\b/.test(query);
  // A subscription row runs over graphql-ws while the owner writes (see runSubscription).
  const isSubscription = /^\s*subscription\b/.test(query);
  const before = await fixtureState(t.dataSource, fx);
  const result = isSubscription
    ? await runSubscription(t, query, variables, optionsFor(caller, fx), fx)
    : await t.gql(query, variables, optionsFor(caller, fx));
  const value = valueAt(result.data, row.path);
  const context = `${JSON.stringify({ status: result.status, errors: result.errors, data: result.data })}`;

  switch (outcome.kind) {
    case 'error':
      expect({ codes: codes(result), context }).toEqual({ codes: [outcome.code], context });
      if (outcome.code === 'UNAUTHENTICATED') {
        expect(result.status).toBe(401);
        expect(result.data).toBeUndefined();
      } else {
        expect(result.status).toBe(200);
        expect(result.errors![0].path).toEqual([row.path[0]]);
        expect(value ?? null).toBeNull();
      }
      break;
    case 'null':
      expect({ errors: result.errors, context }).toEqual({ errors: undefined, context });
      expect(value).toBeNull();
      break;
    case 'empty':
      expect({ errors: result.errors, context }).toEqual({ errors: undefined, context });
      expectEmpty(value);
      break;
    case 'data': {
      expect({ errors: result.errors, context }).toEqual({ errors: undefined, context });
      expect(value ?? null).not.toBeNull();
      const viewer = fx[caller as 'owner' | 'other' | 'admin'];
      await outcome.check?.(value, { fx, viewer, dataSource: t.dataSource, server: t });
      break;
    }
  }

  // A refused or empty-handed call leaves no trace and reveals nothing; a query never writes.
  if (outcome.kind !== 'data') expectNoLeak(result, fx);
  if (!isSubscription && (outcome.kind !== 'data' || !isMutation)) expect(await fixtureState(t.dataSource, fx)).toEqual(before);
}

describe('authorization matrix', () => {
  for (const [coordinate, rows] of Object.entries(MATRIX)) {
    describe(coordinate, () => {
      for (const row of rows) {
        const cases = CALLERS.map((caller) => {
          const outcome = expectedFor(row, caller);
          const via = row.via ? ` via ${row.via}` : '';
          return { name: `${coordinate}${via} as ${CALLER_LABEL[caller]} → ${outcomeLabel(outcome)}`, caller, outcome };
        });
        it.each(cases)('$name', async ({ caller, outcome }) => {
          const fx = await buildFixtures(f);
          await assertOutcome(row, caller, outcome, fx);
        });
      }
    });
  }
});

describe('authorization matrix completeness', () => {
  const schema = buildSchema(readFileSync(schemaPath(), 'utf8'));
  const fieldsOf = (type: GraphQLObjectType | null | undefined) =>
    Object.keys(type!.getFields()).map((field) => `${type!.name}.${field}`);

  it('has rows for exactly every Query and Mutation field plus the row-reaching type fields', () => {
    const expected = [
      ...fieldsOf(schema.getQueryType()),
      ...fieldsOf(schema.getMutationType()),
      ...fieldsOf(schema.getSubscriptionType()),
      ...TYPE_FIELDS,
    ].sort();
    expect(Object.keys(MATRIX).sort()).toEqual(expected);
  });

  it('lists every type field that reaches other rows (object-typed fields and counts of entity types)', () => {
    // Audio is columns of the message row, not another row, and an AudioUpload (with its
    // headers) is the answer of createAudioUpload only; connections and edges are reached only
    // through the fields listed here.
    // A SyncStatusCount is a number in a nodeSyncSummary answer, whose rows check what it counts.
    // A TokenUsage is columns of the message row, or sums the usage loaders take under the viewer's scope
    // from the parent the viewer already reached (test/read/usage.test.ts).
    const valueTypes = new Set(['Audio', 'AudioUpload', 'HttpHeader', 'PageInfo', 'SyncStatusCount', 'TokenUsage']);
    const rootNames = new Set([schema.getQueryType()!.name, schema.getMutationType()!.name, schema.getSubscriptionType()!.name]);
    const reaching: string[] = [];
    for (const type of Object.values(schema.getTypeMap())) {
      if (!isObjectType(type) || type.name.startsWith('__') || rootNames.has(type.name)) continue;
      if (/(Connection|Edge|Payload)$/.test(type.name) || valueTypes.has(type.name)) continue;
      for (const field of Object.values(type.getFields())) {
        const named = getNamedType(field.type);
        if ((isObjectType(named) && !valueTypes.has(named.name)) || /Count$/.test(field.name)) {
          reaching.push(`${type.name}.${field.name}`);
        }
      }
    }
    expect(reaching.sort()).toEqual([...TYPE_FIELDS].sort());
  });

  it('gives every row an outcome for each authenticated caller', () => {
    for (const rows of Object.values(MATRIX)) {
      expect(rows.length).toBeGreaterThan(0);
      for (const row of rows) expect(Object.keys(row.expect).sort()).toEqual(['admin', 'other', 'owner']);
    }
  });
});
