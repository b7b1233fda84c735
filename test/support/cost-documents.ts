/**
 * Generated documents for the cost estimate: a small tree of selections printed with its
 * variables and fragments. Page sizes come as literals, variables, variables with defaults that
 * are or are not sent, `first` or `last`; selections sit directly, in inline fragments or in
 * named fragments; `@include`/`@skip` hang on some of them; connections nest (sessions in skills,
 * messages in sessions, an owner's sessions in a session). Shared by the cost property
 * (test/security/query-cost.test.ts), the document cache test and the fuzz suite.
 */
import fc from 'fast-check';

export type Page =
  | { kind: 'none' }
  | { kind: 'literal'; n: number; arg: 'first' | 'last' }
  | { kind: 'variable'; n: number | null; arg: 'first' | 'last' }
  | { kind: 'default'; def: number; sent: number | null | undefined; arg: 'first' | 'last' };
export type Wrap = 'direct' | 'inline' | 'fragment';
/** `@include(if: …)` or `@skip(if: …)`, given as a literal, a variable, or a variable with a default. */
export type Condition = { directive: 'include' | 'skip'; how: 'literal' | 'variable' | 'default'; value: boolean; sent?: boolean };
export interface MessagesSel { page: Page; parts: string[]; wrap: Wrap; condition?: Condition }
export interface OwnerSessionsSel { page: Page; messages?: MessagesSel }
export interface SessionSel {
  scalars: string[];
  owner: boolean;
  skills: boolean;
  nodeSync: boolean;
  lastMessage: boolean;
  messages?: MessagesSel;
  ownerSessions?: OwnerSessionsSel;
  wrap: Wrap;
  condition?: Condition;
}
export interface ConnectionSel { via: 'nodes' | 'edges'; wrap: Wrap; session: SessionSel; totalCount: boolean }
export type Root =
  | { field: 'sessions' | 'me' | 'skills'; page: Page; connection: ConnectionSel }
  | { field: 'session'; session: SessionSel };

/** A declared variable: how a test may vary it (`page`, `flag`) and `id`s, which never change the cost. */
export interface Declared {
  name: string;
  role: 'page' | 'flag' | 'id';
  /** May be left out (nullable, or with a default). */
  optional: boolean;
}

export interface PrintedDocument {
  query: string;
  variables: Record<string, unknown>;
  declared: Declared[];
}

export const pageSize = fc.constantFrom(0, 1, 2, 5, 20, 50, 60, 100);
const arg = fc.constantFrom<'first' | 'last'>('first', 'first', 'last');
export const page: fc.Arbitrary<Page> = fc.oneof(
  fc.constant<Page>({ kind: 'none' }),
  fc.record({ n: pageSize, arg }).map((p): Page => ({ kind: 'literal', ...p })),
  fc.record({ n: fc.option(pageSize, { nil: null }), arg }).map((p): Page => ({ kind: 'variable', ...p })),
  fc.record({ def: pageSize, sent: fc.option(fc.option(pageSize, { nil: null }), { nil: undefined, freq: 2 }), arg }).map((p): Page => ({ kind: 'default', ...p })),
);
const wrap = fc.constantFrom<Wrap>('direct', 'direct', 'inline', 'fragment');
/** `arb` one time in `1 + absent`, else undefined (fc.option cannot make the value the rarer one). */
const sometimes = <T>(arb: fc.Arbitrary<T>, absent: number): fc.Arbitrary<T | undefined> =>
  fc.oneof({ weight: absent, arbitrary: fc.constant(undefined) }, { weight: 1, arbitrary: arb });
const condition: fc.Arbitrary<Condition | undefined> = sometimes(
  fc.record(
    { directive: fc.constantFrom<'include' | 'skip'>('include', 'skip'), how: fc.constantFrom<Condition['how']>('literal', 'variable', 'default'), value: fc.boolean(), sent: fc.boolean() },
    { requiredKeys: ['directive', 'how', 'value'] },
  ),
  3,
);
export const messagesSel: fc.Arbitrary<MessagesSel> = fc.record({
  page,
  parts: fc.subarray(['nodes { id content }', 'edges { cursor node { id role } }', '... on MessageConnection { nodes { id } }', 'totalCount', 'pageInfo { hasNextPage endCursor }'], { minLength: 1 }),
  wrap,
  condition,
});
export const sessionSel: fc.Arbitrary<SessionSel> = fc.record({
  scalars: fc.subarray(['id', 'title', 'messageCount', 'isSyncing', 'renamed: title'], { minLength: 1 }),
  owner: fc.boolean(),
  skills: fc.boolean(),
  nodeSync: fc.boolean(),
  lastMessage: fc.boolean(),
  messages: fc.option(messagesSel, { nil: undefined, freq: 2 }),
  ownerSessions: sometimes(fc.record({ page, messages: fc.option(messagesSel, { nil: undefined, freq: 2 }) }), 6),
  wrap,
  condition,
});
export const connectionSel: fc.Arbitrary<ConnectionSel> = fc.record({ via: fc.constantFrom<'nodes' | 'edges'>('nodes', 'edges'), wrap, session: sessionSel, totalCount: fc.boolean() });
export const roots: fc.Arbitrary<Root[]> = fc.array(
  fc.oneof(
    { weight: 6, arbitrary: fc.record({ field: fc.constantFrom<'sessions' | 'me' | 'skills'>('sessions', 'me', 'skills'), page, connection: connectionSel }) },
    { weight: 1, arbitrary: fc.record({ field: fc.constant<'session'>('session'), session: sessionSel }) },
  ),
  { minLength: 1, maxLength: 3 },
);

/** Prints the tree; `sessionId` is what `session(id: $…)` roots are sent. */
export function printDocument(list: Root[], sessionId = '00000000-0000-4000-8000-000000000000'): PrintedDocument {
  const definitions: string[] = [];
  const fragments: string[] = [];
  const variables: Record<string, unknown> = {};
  const declared: Declared[] = [];
  let n = 0;
  const declare = (type: string, role: Declared['role'], value: { sent: boolean; value?: unknown }, def?: string) => {
    const name = `v${n++}`;
    definitions.push(`$${name}: ${type}${def === undefined ? '' : ` = ${def}`}`);
    declared.push({ name, role, optional: !type.endsWith('!') });
    if (value.sent) variables[name] = value.value;
    return `$${name}`;
  };
  const args = (p: Page): string => {
    if (p.kind === 'none') return '';
    if (p.kind === 'literal') return `(${p.arg}: ${p.n})`;
    if (p.kind === 'variable') return `(${p.arg}: ${declare('Int', 'page', { sent: true, value: p.n })})`;
    return `(${p.arg}: ${declare('Int', 'page', { sent: p.sent !== undefined, value: p.sent }, String(p.def))})`;
  };
  const directive = (c: Condition | undefined): string => {
    if (!c) return '';
    if (c.how === 'literal') return ` @${c.directive}(if: ${c.value})`;
    if (c.how === 'variable') return ` @${c.directive}(if: ${declare('Boolean!', 'flag', { sent: true, value: c.value })})`;
    return ` @${c.directive}(if: ${declare('Boolean', 'flag', { sent: c.sent ?? false, value: !c.value }, String(c.value))})`;
  };
  const wrapped = (type: string, body: string, how: Wrap, c?: Condition): string => {
    if (how === 'direct') return c ? `... on ${type}${directive(c)} { ${body} }` : body;
    if (how === 'inline') return `... on ${type}${directive(c)} { ${body} }`;
    const name = `F${n++}`;
    fragments.push(`fragment ${name} on ${type} { ${body} }`);
    return `...${name}${directive(c)}`;
  };
  const messages = (m: MessagesSel): string => `messages${args(m.page)}${directive(m.condition)} { ${wrapped('MessageConnection', m.parts.join(' '), m.wrap)} }`;
  const session = (s: SessionSel): string => {
    const parts = [...s.scalars];
    if (s.owner) parts.push('owner { id displayName }');
    if (s.skills) parts.push('skills { id name }');
    if (s.nodeSync) parts.push('nodeSync { nodeId status }');
    if (s.lastMessage) parts.push('lastMessage { id }');
    if (s.messages) parts.push(messages(s.messages));
    if (s.ownerSessions) {
      const inner = s.ownerSessions.messages ? ` ${messages(s.ownerSessions.messages)}` : '';
      parts.push(`owner { id sessions${args(s.ownerSessions.page)} { nodes { id${inner} } } }`);
    }
    return wrapped('Session', parts.join(' '), s.wrap, s.condition);
  };
  const connection = (c: ConnectionSel): string => {
    const items = c.via === 'nodes' ? `nodes { ${session(c.session)} }` : `edges { cursor node { ${session(c.session)} } }`;
    return wrapped('SessionConnection', `${c.totalCount ? 'totalCount ' : ''}${items}`, c.wrap);
  };
  const fields = list.map((r, i) => {
    if (r.field === 'session') return `r${i}: session(id: ${declare('ID!', 'id', { sent: true, value: sessionId })}) { ${session(r.session)} }`;
    if (r.field === 'sessions') return `r${i}: sessions${args(r.page)} { ${connection(r.connection)} }`;
    if (r.field === 'me') return `r${i}: me { id sessions${args(r.page)} { ${connection(r.connection)} } }`;
    return `r${i}: skills${args(r.page)} { nodes { id sessions(first: 5) { ${connection(r.connection)} } } }`;
  });
  const head = definitions.length ? `query Q(${definitions.join(', ')})` : 'query Q';
  return { query: [`${head} { ${fields.join(' ')} }`, ...fragments].join('\n'), variables, declared };
}

/**
 * Other values for a printed document's variables: page sizes (a size or null), flags (a
 * boolean) and ids among `ids`; an optional variable is sometimes left out (its default applies).
 */
export function variablesFor(declared: Declared[], ids: string[]): fc.Arbitrary<Record<string, unknown>> {
  const value = (d: Declared): fc.Arbitrary<unknown> => {
    const sent: fc.Arbitrary<unknown> = d.role === 'id' ? fc.constantFrom(...ids) : d.role === 'flag' ? fc.boolean() : fc.option(pageSize, { nil: null });
    return d.optional ? fc.option(sent, { nil: undefined, freq: 4 }) : sent;
  };
  return fc
    .tuple(...declared.map(value))
    .map((values) => Object.fromEntries(declared.flatMap((d, i) => (values[i] === undefined ? [] : [[d.name, values[i]]]))));
}

/** Objects in a response's data (every JSON object below the root). */
export function objectsIn(value: unknown): number {
  if (Array.isArray(value)) return value.reduce((sum: number, item) => sum + objectsIn(item), 0);
  if (value && typeof value === 'object') return 1 + Object.values(value).reduce((sum: number, item) => sum + objectsIn(item), 0);
  return 0;
}
