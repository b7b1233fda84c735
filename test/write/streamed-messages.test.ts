import fc from 'fast-check';
import { codes, invalidFields, useTestServer } from '../harness';
import { User } from '../../src/users/user.entity';
import { DELETE_SESSION, PURGE_SESSION, RESTORE_SESSION } from './documents';

const { t, f } = useTestServer({}, { invariants: true });

const MESSAGE_FIELDS = 'id content status usage { inputTokens outputTokens model } deletedAt';
const POST = `mutation($input: PostMessageInput!) { postMessage(input: $input) { ${MESSAGE_FIELDS} } }`;
const APPEND = `mutation($id: ID!, $delta: String!, $offset: Int!) { appendMessageContent(id: $id, delta: $delta, offset: $offset) { ${MESSAGE_FIELDS} } }`;
const FINISH = `mutation($id: ID!, $status: MessageStatus!, $usage: TokenUsageInput) { finishMessage(id: $id, status: $status, usage: $usage) { ${MESSAGE_FIELDS} } }`;
const READ = `query($id: ID!) { message(id: $id) { ${MESSAGE_FIELDS} } }`;

async function streaming(as: User, content = '') {
  const session = await f.session(as);
  const posted = await t.gql(POST, { input: { sessionId: session.id, role: 'ASSISTANT', content, status: 'STREAMING' } }, { as });
  expect(posted.errors).toBeUndefined();
  return { session, id: posted.data.postMessage.id as string };
}

const append = (as: User, id: string, delta: string, offset: number) => t.gql(APPEND, { id, delta, offset }, { as });
const read = async (as: User, id: string) => (await t.gql(READ, { id }, { as })).data.message;

describe('streamed messages', () => {
  it('open STREAMING with empty content, grow by appends at the current length, and end once with usage', async () => {
    const member = await f.user();
    const { id } = await streaming(member);
    expect(await read(member, id)).toMatchObject({ content: '', status: 'STREAMING', usage: null });
    expect((await append(member, id, 'Hel', 0)).data.appendMessageContent).toMatchObject({ content: 'Hel', status: 'STREAMING' });
    expect((await append(member, id, 'lo', 3)).data.appendMessageContent.content).toBe('Hello');
    const usage = { inputTokens: 12, outputTokens: 2, model: 'gpt-test' };
    const finished = await t.gql(FINISH, { id, status: 'COMPLETE', usage }, { as: member });
    expect(finished.data.finishMessage).toMatchObject({ content: 'Hello', status: 'COMPLETE', usage });
    expect(await read(member, id)).toMatchObject({ content: 'Hello', status: 'COMPLETE', usage });

    const again = await t.gql(FINISH, { id, status: 'FAILED' }, { as: member });
    expect(codes(again)).toEqual(['CONFLICT']);
    expect(again.errors![0].extensions!.status).toBe('COMPLETE');
    const late = await append(member, id, '!', 5);
    expect(codes(late)).toEqual(['CONFLICT']);
    expect(late.errors![0].extensions!.status).toBe('COMPLETE');
    expect(await read(member, id)).toMatchObject({ content: 'Hello', status: 'COMPLETE', usage });
  });

  it('post COMPLETE by default, with usage when given, and refuse to stream a COMPLETE message', async () => {
    const member = await f.user();
    const session = await f.session(member);
    const usage = { inputTokens: 0, outputTokens: 7, model: null };
    const posted = await t.gql(POST, { input: { sessionId: session.id, role: 'ASSISTANT', content: 'Done', usage } }, { as: member });
    expect(posted.data.postMessage).toMatchObject({ status: 'COMPLETE', usage });
    const refused = await append(member, posted.data.postMessage.id, '?', 4);
    expect(codes(refused)).toEqual(['CONFLICT']);
    expect(codes(await t.gql(FINISH, { id: posted.data.postMessage.id, status: 'COMPLETE' }, { as: member }))).toEqual(['CONFLICT']);
  });

  it('answer another offset with CONFLICT and the current length, changing nothing', async () => {
    const member = await f.user();
    const { id } = await streaming(member, 'abc');
    for (const offset of [0, 2, 4, 1000]) {
      const result = await append(member, id, 'X', offset);
      expect(codes(result)).toEqual(['CONFLICT']);
      expect(result.errors![0].extensions!.length).toBe(3);
    }
    expect((await read(member, id)).content).toBe('abc');
  });

  it('count characters as code points, for offsets and for the 32,000-character limit', async () => {
    const member = await f.user();
    const { id } = await streaming(member, '😀');
    // One character, two UTF-16 units: offset 1, not 2.
    expect(codes(await append(member, id, 'x', 2))).toEqual(['CONFLICT']);
    expect((await append(member, id, 'é😀', 1)).data.appendMessageContent.content).toBe('😀é😀');
    const filler = 'a'.repeat(31_990);
    expect((await append(member, id, filler, 3)).errors).toBeUndefined();
    const over = await append(member, id, '😀'.repeat(8), 31_993);
    expect(invalidFields(over)).toEqual(['delta']);
    const exact = await append(member, id, '😀'.repeat(7), 31_993);
    expect(exact.errors).toBeUndefined();
    const [{ n }] = await t.dataSource.query('SELECT char_length(content) AS n FROM messages WHERE id = $1', [id]);
    expect(n).toBe(32_000);
  });

  it.each([
    ['a negative offset', APPEND, (id: string) => ({ id, delta: 'x', offset: -1 }), ['offset']],
    ['a NUL in the delta', APPEND, (id: string) => ({ id, delta: 'a\u0000', offset: 0 }), ['delta']],
    ['a lone surrogate in the delta', APPEND, (id: string) => ({ id, delta: '\ud800', offset: 0 }), ['delta']],
    ['status STREAMING', FINISH, (id: string) => ({ id, status: 'STREAMING' }), ['status']],
    ['negative tokens', FINISH, (id: string) => ({ id, status: 'COMPLETE', usage: { inputTokens: -1, outputTokens: 0 } }), ['usage.inputTokens']],
    ['a model name over 200 characters', FINISH, (id: string) => ({ id, status: 'FAILED', usage: { inputTokens: 1, outputTokens: 1, model: 'm'.repeat(201) } }), ['usage.model']],
  ])('refuse %s as BAD_USER_INPUT, writing nothing', async (_, document, variables, fields) => {
    const member = await f.user();
    const { id } = await streaming(member);
    expect(invalidFields(await t.gql(document, variables(id), { as: member }))).toEqual(fields);
    expect(await read(member, id)).toMatchObject({ content: '', status: 'STREAMING', usage: null });
  });

  it('let only a viewer who may post to the session append or finish: another member gets NOT_FOUND, an admin may', async () => {
    const [owner, other, admin] = [await f.user(), await f.user(), await f.admin()];
    const { id } = await streaming(owner);
    expect(codes(await append(other, id, 'x', 0))).toEqual(['NOT_FOUND']);
    expect(codes(await t.gql(FINISH, { id, status: 'FAILED' }, { as: other }))).toEqual(['NOT_FOUND']);
    expect((await append(admin, id, 'x', 0)).data.appendMessageContent.content).toBe('x');
    expect((await t.gql(FINISH, { id, status: 'FAILED' }, { as: admin })).data.finishMessage.status).toBe('FAILED');
  });

  it('end the writer on deleting the session (NOT_FOUND), bring the message back as it was on restore, and NOT_FOUND after a purge', async () => {
    const [member, admin] = [await f.user(), await f.admin()];
    const { session, id } = await streaming(member, 'Once');
    await append(member, id, ' upon', 4);
    const before = await read(member, id);
    expect((await t.gql(DELETE_SESSION, { id: session.id }, { as: member })).errors).toBeUndefined();
    expect(codes(await append(member, id, ' a', 9))).toEqual(['NOT_FOUND']);
    expect(codes(await t.gql(FINISH, { id, status: 'COMPLETE' }, { as: member }))).toEqual(['NOT_FOUND']);
    expect((await t.gql(RESTORE_SESSION, { id: session.id }, { as: member })).errors).toBeUndefined();
    expect(await read(member, id)).toEqual(before);
    expect((await append(member, id, ' a', 9)).data.appendMessageContent.content).toBe('Once upon a');
    await t.gql(FINISH, { id, status: 'COMPLETE', usage: { inputTokens: 3, outputTokens: 4 } }, { as: member });
    const finished = await read(member, id);
    await t.gql(DELETE_SESSION, { id: session.id }, { as: member });
    await t.gql(RESTORE_SESSION, { id: session.id }, { as: member });
    expect(await read(member, id)).toEqual(finished);
    expect((await t.gql(PURGE_SESSION, { id: session.id }, { as: admin })).errors).toBeUndefined();
    expect(codes(await append(member, id, '.', 11))).toEqual(['NOT_FOUND']);
  });

  it('NOT_FOUND for a message deleted on its own', async () => {
    const member = await f.user();
    const { id } = await streaming(member);
    await t.gql(`mutation($id: ID!) { deleteMessage(id: $id) { id } }`, { id }, { as: member });
    expect(codes(await append(member, id, 'x', 0))).toEqual(['NOT_FOUND']);
  });

  /**
   * Writers racing on one message with the offsets they believe (the true length, a stale one:
   * a retry or a duplicate, one ahead: a gap): every accepted append started exactly where the
   * previous accepted one ended, and the content is the accepted deltas in that order. Without
   * the offset check two appends at one offset would both be accepted and this fails.
   */
  it('keep the content equal to exactly the accepted deltas, in order, under racing appenders', async () => {
    const member = await f.user();
    const writer = fc.record({
      deltas: fc.array(fc.string({ unit: fc.constantFrom('a', 'b', 'é', '😀', ' '), minLength: 1, maxLength: 4 }), { minLength: 1, maxLength: 4 }),
      skew: fc.array(fc.integer({ min: -2, max: 1 }), { minLength: 4, maxLength: 4 }),
    });
    await fc.assert(
      fc.asyncProperty(fc.array(writer, { minLength: 2, maxLength: 4 }), async (writers) => {
        const { id } = await streaming(member);
        const accepted: { offset: number; delta: string }[] = [];
        await Promise.all(
          writers.map(async ({ deltas, skew }) => {
            let known = 0;
            for (const [i, delta] of deltas.entries()) {
              const offset = Math.max(0, known + skew[i]);
              const result = await append(member, id, delta, offset);
              if (result.errors) {
                expect(codes(result)).toEqual(['CONFLICT']);
                known = result.errors[0].extensions!.length as number;
                // A retry at the length told: it may lose again to another writer.
                const retry = await append(member, id, delta, known);
                if (!retry.errors) {
                  accepted.push({ offset: known, delta });
                  known += [...delta].length;
                } else known = retry.errors[0].extensions!.length as number;
              } else {
                accepted.push({ offset, delta });
                known = offset + [...delta].length;
              }
            }
          }),
        );
        accepted.sort((a, b) => a.offset - b.offset);
        let end = 0;
        for (const { offset, delta } of accepted) {
          expect(offset).toBe(end);
          end += [...delta].length;
        }
        expect((await read(member, id)).content).toBe(accepted.map((a) => a.delta).join(''));
      }),
      { numRuns: 15 },
    );
  });
});
