import fs from 'node:fs/promises';
import path from 'node:path';
import fc from 'fast-check';
import { Session } from '../../src/sessions/session.entity';
import { User } from '../../src/users/user.entity';
import { codes, GqlResult } from '../harness';
import { expectInvariants } from '../invariants';
import { bytesOf, DRIVERS, POST_AUDIO, upload, useAudioServer } from './support';

/**
 * Issue 11, the leak: postMessage used to accept any key. The refusal class, generated: every key
 * that is not the viewer's own completed, unattached, unexpired upload to this session with this
 * content type and size is BAD_USER_INPUT on `input.audio.key`, and nothing is written: no
 * message, upload rows unchanged, no stored object changed. Keys that exist but are not the
 * viewer's get exactly the answer of a key that never existed.
 */

type Refusal =
  | { kind: 'another member’s key'; size: number }
  | { kind: 'an admin’s upload to the viewer’s own session'; size: number }
  | { kind: 'a guessed key'; hex: string; ext: string }
  | { kind: 'a key of another session of the viewer'; size: number }
  | { kind: 'an expired upload'; size: number }
  | { kind: 'a wrong size'; size: number; delta: number }
  | { kind: 'a wrong content type'; size: number; declared: string }
  | { kind: 'an already attached key'; size: number }
  | { kind: 'a never uploaded key'; size: number }
  | { kind: 'a traversal-like key'; key: string };

const size = fc.integer({ min: 1, max: 3000 });
const segment = fc.stringMatching(/^[a-z0-9]{1,8}$/);
const traversal = fc.oneof(
  fc.constantFrom('jwt-secret', 'embedded-postgres.json', '/etc/passwd', '../jwt-secret', 'audio/../../jwt-secret', 'audio//x.ogg', 'audio/./x.ogg'),
  fc.tuple(fc.constantFrom('..', '.', '%2e%2e', '.meta', '.staging', '', '~'), segment).map(([dots, name]) => `audio/${dots}/${name}.ogg`),
  fc.tuple(segment, fc.constantFrom('\\', ':', '?', '#', '%00', ' ')).map(([name, odd]) => `audio/${name}${odd}x.ogg`),
);

/** One generator per class, so every class runs (a single oneof could leave one out). */
const CLASSES: fc.Arbitrary<Refusal>[] = [
  fc.record({ kind: fc.constant('another member’s key' as const), size }),
  fc.record({ kind: fc.constant('an admin’s upload to the viewer’s own session' as const), size }),
  fc.record({ kind: fc.constant('a guessed key' as const), hex: fc.stringMatching(/^[0-9a-f]{32}$/), ext: fc.constantFrom('ogg', 'mp3', 'wav') }),
  fc.record({ kind: fc.constant('a key of another session of the viewer' as const), size }),
  fc.record({ kind: fc.constant('an expired upload' as const), size }),
  fc.record({ kind: fc.constant('a wrong size' as const), size, delta: fc.integer({ min: -50, max: 50 }).filter((d) => d !== 0) }),
  fc.record({
    kind: fc.constant('a wrong content type' as const),
    size,
    declared: fc.constantFrom('audio/mpeg', 'audio/wav', 'audio/ogg; codecs=opus', 'audio/OGG', 'audio/webm'),
  }),
  fc.record({ kind: fc.constant('an already attached key' as const), size }),
  fc.record({ kind: fc.constant('a never uploaded key' as const), size }),
  fc.record({ kind: fc.constant('a traversal-like key' as const), key: traversal }),
];
const RUNS_PER_CLASS = 6;

describe.each(DRIVERS)('postMessage audio ownership on the %s driver', (driver) => {
  const suite = useAudioServer(driver);
  afterEach(() => expectInvariants(suite().t.dataSource));

  interface Scene {
    viewer: User;
    session: Session;
    /** The key and the audio the viewer's postMessage declares. */
    audio: { key: string; contentType: string; byteSize: number };
    /** Keys whose rows and objects must not change. */
    keys: string[];
    sessions: string[];
  }

  async function stage(refusal: Refusal): Promise<Scene> {
    const { t, f } = suite();
    // Fresh sessions per run; the two users are shared (every user is a row other tests page through).
    const { viewer, victim, admin } = people!;
    const [session, second, victims] = [await f.session(viewer), await f.session(viewer), await f.session(victim)];
    const sessions = [session.id, second.id, victims.id];
    const ogg = (key: string, byteSize: number) => ({ key, contentType: 'audio/ogg', byteSize });
    switch (refusal.kind) {
      case 'another member’s key': {
        const made = await upload(t, victim, victims.id, bytesOf(refusal.size));
        return { viewer, session, audio: ogg(made.key, refusal.size), keys: [made.key], sessions };
      }
      case 'an admin’s upload to the viewer’s own session': {
        const made = await upload(t, admin, session.id, bytesOf(refusal.size));
        return { viewer, session, audio: ogg(made.key, refusal.size), keys: [made.key], sessions };
      }
      case 'a guessed key':
        return { viewer, session, audio: { key: `audio/${session.id}/${refusal.hex}.${refusal.ext}`, contentType: 'audio/ogg', byteSize: 10 }, keys: [], sessions };
      case 'a key of another session of the viewer': {
        const made = await upload(t, viewer, second.id, bytesOf(refusal.size));
        return { viewer, session, audio: ogg(made.key, refusal.size), keys: [made.key], sessions };
      }
      case 'an expired upload': {
        const made = await upload(t, viewer, session.id, bytesOf(refusal.size));
        await t.dataSource.query(`UPDATE audio_uploads SET expires_at = now() - interval '1 second' WHERE key = $1`, [made.key]);
        return { viewer, session, audio: ogg(made.key, refusal.size), keys: [made.key], sessions };
      }
      case 'a wrong size': {
        const made = await upload(t, viewer, session.id, bytesOf(refusal.size));
        const declared = refusal.size + refusal.delta > 0 ? refusal.size + refusal.delta : refusal.size + Math.abs(refusal.delta);
        return { viewer, session, audio: ogg(made.key, declared), keys: [made.key], sessions };
      }
      case 'a wrong content type': {
        const made = await upload(t, viewer, session.id, bytesOf(refusal.size));
        return { viewer, session, audio: { key: made.key, contentType: refusal.declared, byteSize: refusal.size }, keys: [made.key], sessions };
      }
      case 'an already attached key': {
        const made = await upload(t, viewer, session.id, bytesOf(refusal.size));
        const first = await t.gql(POST_AUDIO, { input: { sessionId: session.id, role: 'USER', content: 'first', audio: ogg(made.key, refusal.size) } }, { as: viewer });
        expect(first.errors).toBeUndefined();
        return { viewer, session, audio: ogg(made.key, refusal.size), keys: [made.key], sessions };
      }
      case 'a never uploaded key': {
        const made = await upload(t, viewer, session.id, bytesOf(refusal.size), 'audio/ogg', false);
        return { viewer, session, audio: ogg(made.key, refusal.size), keys: [made.key], sessions };
      }
      case 'a traversal-like key':
        return { viewer, session, audio: { key: refusal.key, contentType: 'audio/ogg', byteSize: 10 }, keys: [], sessions };
    }
  }

  /** Everything a refused post could have touched: messages of the scene's sessions, its upload rows, its objects. */
  async function snapshot(scene: Scene) {
    const { t, storage, audioDir } = suite();
    const messages = await t.dataSource.query(`SELECT id, audio_key FROM messages WHERE session_id = ANY($1) ORDER BY id`, [scene.sessions]);
    const uploads = await t.dataSource.query(`SELECT * FROM audio_uploads WHERE session_id = ANY($1) ORDER BY key`, [scene.sessions]);
    const objects = await Promise.all(scene.keys.map((key) => storage.head(key)));
    const files = audioDir ? await fs.readdir(audioDir, { recursive: true }).then((names) => names.sort()) : [];
    const updatedAt = await t.dataSource.query(`SELECT id, updated_at FROM sessions WHERE id = ANY($1) ORDER BY id`, [scene.sessions]);
    return { messages, uploads, objects, files, updatedAt };
  }

  let unknownKeyAnswer: { message: string; validation: unknown } | undefined;
  let people: { viewer: User; victim: User; admin: User } | undefined;

  function answerOf(result: GqlResult) {
    return { message: result.errors![0].message, validation: result.errors![0].extensions!.validation };
  }

  beforeAll(async () => {
    // The reference: a well-formed key that no upload ever had.
    const { t, f } = suite();
    people = { viewer: await f.user(), victim: await f.user(), admin: await f.admin() };
    const { viewer } = people;
    const session = await f.session(viewer);
    const audio = { key: `audio/${session.id}/${'0'.repeat(32)}.ogg`, contentType: 'audio/ogg', byteSize: 10 };
    unknownKeyAnswer = answerOf(await t.gql(POST_AUDIO, { input: { sessionId: session.id, role: 'USER', content: 'x', audio } }, { as: viewer }));
    expect(unknownKeyAnswer.validation).toEqual([{ field: 'input.audio.key', message: expect.any(String) }]);
  });

  it.each(CLASSES.map((arbitrary) => ({ arbitrary, name: fc.sample(arbitrary, 1)[0].kind })))(
    'refuses $name (generated), writing nothing',
    async ({ arbitrary, name }) => {
      let runs = 0;
      await fc.assert(
        fc.asyncProperty(arbitrary, async (refusal) => {
          const { t } = suite();
          expect(refusal.kind).toBe(name);
          runs += 1;
          const scene = await stage(refusal);
          const before = await snapshot(scene);
          const input = { sessionId: scene.session.id, role: 'USER', content: 'stolen?', audio: scene.audio };
          const result = await t.gql(POST_AUDIO, { input }, { as: scene.viewer });
          expect({ kind: refusal.kind, codes: codes(result) }).toEqual({ kind: refusal.kind, codes: ['BAD_USER_INPUT'] });
          expect((result.errors![0].extensions!.validation as { field: string }[]).map((v) => v.field)).toEqual(['input.audio.key']);
          // Whether the key is someone else's, expired, mismatched or unknown is not told apart.
          if (refusal.kind !== 'a traversal-like key') expect(answerOf(result)).toEqual(unknownKeyAnswer);
          expect(await snapshot(scene)).toEqual(before);
        }),
        { numRuns: RUNS_PER_CLASS },
      );
      expect(runs).toBe(RUNS_PER_CLASS);
    },
    60_000,
  );

  it('lets exactly one of several concurrent posts attach the same key', async () => {
    const { t, f } = suite();
    const viewer = await f.user();
    const session = await f.session(viewer);
    const made = await upload(t, viewer, session.id, bytesOf(77));
    const audio = { key: made.key, contentType: 'audio/ogg', byteSize: 77 };
    const results = await Promise.all(
      Array.from({ length: 6 }, (_, i) => t.gql(POST_AUDIO, { input: { sessionId: session.id, role: 'USER', content: `race ${i}`, audio } }, { as: viewer })),
    );
    expect(results.filter((r) => !r.errors)).toHaveLength(1);
    expect(results.filter((r) => r.errors).map((r) => codes(r)[0])).toEqual(Array(5).fill('BAD_USER_INPUT'));
    const rows = await t.dataSource.query(`SELECT id FROM messages WHERE audio_key = $1`, [made.key]);
    expect(rows).toHaveLength(1);
  });

  it('never lets a member read another member’s file by naming it: the jwt-secret key of the old leak is refused', async () => {
    const { t, f, audioDir } = suite();
    if (audioDir) await fs.writeFile(path.join(audioDir, 'jwt-secret'), 'not for you');
    const viewer = await f.user();
    const session = await f.session(viewer);
    const audio = { key: 'jwt-secret', contentType: 'audio/ogg', byteSize: 11 };
    const result = await t.gql(POST_AUDIO, { input: { sessionId: session.id, role: 'USER', content: 'x', audio } }, { as: viewer });
    expect(answerOf(result)).toEqual(unknownKeyAnswer);
    if (audioDir) await fs.rm(path.join(audioDir, 'jwt-secret'));
  });
});
