import { gql, HttpResult, succeeded } from './http';

/** Who the load runs as and what it works on. */
export interface LoadTarget {
  graphqlUrl: string;
  adminToken: string;
  members: { token: string; sessionIds: string[] }[];
  skillIds: string[];
}

export interface Sample {
  op: string;
  startedAt: number;
  endedAt: number;
  status: number;
  codes: string[];
  messages: string[];
  network?: string;
}

/** A write the server acknowledged (200, data, no error): it must be in the database afterwards. */
export interface Ack {
  kind: 'message' | 'session';
  id: string;
  sessionId?: string;
  content?: string;
}

export interface LoadResult {
  samples: Sample[];
  acks: Ack[];
  startedAt: number;
  endedAt: number;
}

export const READ_SESSION = `query ReadSession($id: ID!) {
  session(id: $id) {
    id title version messageCount isSyncing updatedAt
    lastMessage { id content createdAt }
    messages(first: 10, orderBy: CREATED_AT_DESC) { edges { cursor node { id role content createdAt } } pageInfo { hasNextPage endCursor } }
    skills { id name }
    nodeSync { nodeId status }
  }
}`;
export const LIST_SESSIONS = `query ListSessions($first: Int, $after: String, $filter: SessionFilter, $orderBy: SessionOrder) {
  sessions(first: $first, after: $after, filter: $filter, orderBy: $orderBy) {
    totalCount
    edges { cursor node { id title owner { id email } messageCount skills { id } lastMessage { id } } }
    pageInfo { hasNextPage endCursor }
  }
}`;
export const ME = `query Me { me { id role sessionCount sessions(first: 5) { nodes { id title messageCount } } } }`;
export const SKILLS = `query Skills { skills(first: 20) { totalCount nodes { id name sessionCount } } }`;
export const USERS = `query Users { users(first: 20) { totalCount nodes { id email sessionCount } } }`;
export const POST_MESSAGE = `mutation Post($input: PostMessageInput!) { postMessage(input: $input) { id content createdAt session { id } } }`;
export const CREATE_SESSION = `mutation Create($input: CreateSessionInput!) { createSession(input: $input) { id title version } }`;
export const UPDATE_SESSION = `mutation Update($id: ID!, $input: UpdateSessionInput!) { updateSession(id: $id, input: $input) { id title version } }`;
export const REPORT_NODE_SYNC = `mutation Report($input: ReportNodeSyncInput!) { reportNodeSync(input: $input) { id isSyncing } }`;
export const ATTACH_SKILLS = `mutation Attach($sessionId: ID!, $skillIds: [ID!]!) { attachSkills(sessionId: $sessionId, skillIds: $skillIds) { id skills { id } } }`;

/** A small deterministic PRNG so a run's mix is reproducible from its seed. */
export function prng(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    return s / 0x100000000;
  };
}

type OpName =
  | 'readSession'
  | 'listSessions'
  | 'me'
  | 'skills'
  | 'users'
  | 'postMessage'
  | 'createSession'
  | 'updateSession'
  | 'reportNodeSync'
  | 'attachSkills';

/** Reads and writes, roughly 55/45: every write is one any client would send. */
export const DEFAULT_MIX: Record<OpName, number> = {
  readSession: 16,
  listSessions: 14,
  me: 5,
  skills: 4,
  users: 3,
  postMessage: 30,
  createSession: 4,
  updateSession: 8,
  reportNodeSync: 8,
  attachSkills: 8,
};

function pick<T>(rand: () => number, items: T[]): T {
  return items[Math.floor(rand() * items.length)];
}

/** The requests a load has sent and not yet seen answered, by when each was sent. */
export class InFlight {
  private readonly sent = new Set<{ at: number }>();

  start(): { at: number } {
    const request = { at: Date.now() };
    this.sent.add(request);
    return request;
  }

  end(request: { at: number }): void {
    this.sent.delete(request);
  }

  /** When the oldest unanswered request was sent, or undefined when none is out. */
  oldest(): number | undefined {
    let oldest: number | undefined;
    for (const { at } of this.sent) if (oldest === undefined || at < oldest) oldest = at;
    return oldest;
  }
}

/**
 * Runs `connections` concurrent clients, each sending one request after another, until
 * `durationMs` has passed or `shouldStop()` says so. Every answer is kept as a sample, and every
 * acknowledged write as an ack.
 */
export async function runLoad(options: {
  target: LoadTarget;
  connections: number;
  durationMs: number;
  timeoutMs?: number;
  mix?: Partial<Record<OpName, number>>;
  seed?: number;
  tag?: string;
  shouldStop?: () => boolean;
  onSample?: (sample: Sample) => void;
  /** Told of every request sent and answered (what is out at a given moment). */
  inFlight?: InFlight;
}): Promise<LoadResult> {
  const { target } = options;
  const mix = { ...DEFAULT_MIX, ...(options.mix ?? {}) };
  const ops = Object.entries(mix).filter(([, w]) => w > 0) as [OpName, number][];
  const totalWeight = ops.reduce((sum, [, w]) => sum + w, 0);
  const samples: Sample[] = [];
  const acks: Ack[] = [];
  const startedAt = Date.now();
  const deadline = startedAt + options.durationMs;
  const tag = options.tag ?? 'load';
  const timeoutMs = options.timeoutMs ?? 15_000;

  const worker = async (w: number) => {
    const rand = prng((options.seed ?? 1) * 7919 + w * 104729);
    let seq = 0;
    while (Date.now() < deadline && !options.shouldStop?.()) {
      let roll = rand() * totalWeight;
      let op: OpName = ops[0][0];
      for (const [name, weight] of ops) {
        roll -= weight;
        if (roll < 0) {
          op = name;
          break;
        }
      }
      const member = target.members[(w + seq) % target.members.length];
      const sessionId = member.sessionIds.length ? pick(rand, member.sessionIds) : undefined;
      seq += 1;
      let result: HttpResult;
      let onSuccess: ((data: any) => void) | undefined;
      const send = async (token: string, query: string, variables?: Record<string, unknown>) => {
        const request = options.inFlight?.start();
        try {
          return await gql(target.graphqlUrl, token, query, variables, timeoutMs);
        } finally {
          if (request) options.inFlight?.end(request);
        }
      };
      switch (op) {
        case 'readSession':
          result = await send(member.token, READ_SESSION, { id: sessionId ?? '00000000-0000-4000-8000-000000000000' });
          break;
        case 'listSessions': {
          const asAdmin = rand() < 0.3;
          const filter: Record<string, unknown> = {};
          if (rand() < 0.3) filter.isSyncing = rand() < 0.5;
          if (rand() < 0.3 && target.skillIds.length) filter.skillId = pick(rand, target.skillIds);
          result = await send(asAdmin ? target.adminToken : member.token, LIST_SESSIONS, {
            first: 1 + Math.floor(rand() * 25),
            filter,
            orderBy: pick(rand, ['CREATED_AT_DESC', 'CREATED_AT_ASC', 'UPDATED_AT_DESC']),
          });
          break;
        }
        case 'me':
          result = await send(member.token, ME);
          break;
        case 'skills':
          result = await send(member.token, SKILLS);
          break;
        case 'users':
          result = await send(target.adminToken, USERS);
          break;
        case 'postMessage': {
          const content = `${tag}-${w}-${seq}-${Date.now()}`;
          result = await send(member.token, POST_MESSAGE, { input: { sessionId, role: pick(rand, ['USER', 'ASSISTANT', 'TOOL', 'SYSTEM']), content } });
          onSuccess = (data) => acks.push({ kind: 'message', id: data.postMessage.id, sessionId, content });
          break;
        }
        case 'createSession':
          result = await send(member.token, CREATE_SESSION, { input: { title: `${tag} session ${w}-${seq}` } });
          onSuccess = (data) => {
            acks.push({ kind: 'session', id: data.createSession.id });
            member.sessionIds.push(data.createSession.id);
          };
          break;
        case 'updateSession':
          result = await send(member.token, UPDATE_SESSION, { id: sessionId, input: { title: `${tag} title ${w}-${seq}` } });
          break;
        case 'reportNodeSync':
          result = await send(member.token, REPORT_NODE_SYNC, {
            input: { sessionId, nodeId: pick(rand, ['node-a', 'node-b', 'node-c']), status: pick(rand, ['PENDING', 'SYNCING', 'SYNCED', 'FAILED']), error: 'boom' },
          });
          break;
        case 'attachSkills':
          result = await send(member.token, ATTACH_SKILLS, { sessionId, skillIds: [pick(rand, target.skillIds)] });
          break;
      }
      const sample: Sample = {
        op,
        startedAt: result!.startedAt,
        endedAt: result!.endedAt,
        status: result!.status,
        codes: result!.codes,
        messages: result!.codes.length ? result!.messages : [],
        network: result!.network,
      };
      samples.push(sample);
      options.onSample?.(sample);
      if (onSuccess && succeeded(result!)) onSuccess(result!.body.data);
      if (result!.network) await new Promise((r) => setTimeout(r, 20)); // no hot loop on a refused socket
    }
  };
  await Promise.all(Array.from({ length: options.connections }, (_, w) => worker(w)));
  return { samples, acks, startedAt, endedAt: Date.now() };
}

/** The outcome of a sample in one word: ok, a code, `HTTP <status>` or the network failure. */
export function outcome(sample: Sample): string {
  if (sample.network) return `network:${sample.network}`;
  if (sample.codes.length) return [...new Set(sample.codes)].join('+');
  if (sample.status !== 200) return `HTTP ${sample.status}`;
  return 'ok';
}
