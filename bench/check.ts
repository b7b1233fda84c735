import { isDeepStrictEqual } from 'node:util';

/** The canonical dashboard's content in one shape, whichever server answered it. */
export interface DashboardSession {
  id: string;
  title: string;
  isSyncing: boolean;
  createdAt: string;
  owner: { id: string; displayName: string };
  skills: { id: string; name: string }[];
  messageCount: number;
  messages: { id: string; role: string; content: string; createdAt: string }[];
}

const iso = (time: string) => new Date(time).toISOString();
// Skills come in name order from us and in link (primary key) order from PostGraphile: compared as sets.
const bySkillId = (a: { id: string }, b: { id: string }) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);

/** Our answer (`sessions { nodes }`, also the floor's body). */
export function normalizeOurs(body: any): DashboardSession[] {
  return body.data.sessions.nodes.map((s: any) => ({
    id: s.id,
    title: s.title,
    isSyncing: s.isSyncing,
    createdAt: iso(s.createdAt),
    owner: { id: s.owner.id, displayName: s.owner.displayName },
    skills: s.skills.map((k: any) => ({ id: k.id, name: k.name })).sort(bySkillId),
    messageCount: s.messageCount,
    messages: s.messages.nodes.map((m: any) => ({ id: m.id, role: m.role, content: m.content, createdAt: iso(m.createdAt) })),
  }));
}

/** PostGraphile's answer (`allSessions { nodes }`, Amber's names). */
export function normalizePostGraphile(body: any): DashboardSession[] {
  return body.data.allSessions.nodes.map((s: any) => ({
    id: s.rowId,
    title: s.title,
    isSyncing: s.isSyncing,
    createdAt: iso(s.createdAt),
    owner: { id: s.userByUserId.rowId, displayName: s.userByUserId.displayName },
    skills: s.sessionSkillsBySessionId.nodes.map((l: any) => ({ id: l.skillBySkillId.rowId, name: l.skillBySkillId.name })).sort(bySkillId),
    messageCount: s.messagesBySessionId.totalCount,
    messages: s.messagesBySessionId.nodes.map((m: any) => ({ id: m.rowId, role: m.role, content: m.content, createdAt: iso(m.createdAt) })),
  }));
}

/** Throws, naming the first difference, unless every answer is the same as the first. */
export function assertSameDashboards(first: number, answers: Record<string, DashboardSession[]>): void {
  const [[refName, ref], ...rest] = Object.entries(answers);
  if (ref.length !== first) throw new Error(`${refName} answered ${ref.length} sessions, not ${first}`);
  for (const [name, answer] of rest) {
    if (isDeepStrictEqual(answer, ref)) continue;
    const i = answer.findIndex((s, j) => !isDeepStrictEqual(s, ref[j]));
    throw new Error(
      `response check failed at ${first} sessions: ${name} differs from ${refName}` +
        (i >= 0 ? ` at session ${i}:\n${JSON.stringify(ref[i])}\n${JSON.stringify(answer[i])}` : ` (${answer.length} vs ${ref.length} sessions)`),
    );
  }
}
