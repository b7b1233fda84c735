/**
 * Issue #23, item 2: every row lock is taken through src/consistency/locks.ts, where the lock
 * order is written, or is named there (`LOCKS_ELSEWHERE`) with its reason. A row lock is any SQL
 * locking clause (FOR UPDATE, FOR NO KEY UPDATE, FOR SHARE, FOR KEY SHARE) or a TypeORM lock
 * (`setLock(…)`, `lock: {…}`) in code; comments may name them.
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import fc from 'fast-check';
import { LOCKS_ELSEWHERE } from '../../src/consistency/locks';

const ROOT = path.resolve(__dirname, '..', '..');
const HOME = 'src/consistency/locks.ts';
const LOCK = /\bFOR\s+(?:NO\s+KEY\s+)?UPDATE\b|\bFOR\s+(?:KEY\s+)?SHARE\b|\bsetLock\s*\(|\block\s*:/gi;

/** The source without its comments (a string that contains `//`, such as a URL, keeps the rest of its line). */
function code(source: string): string {
  return source.replace(/\/\*[\s\S]*?\*\//g, '').replace(/(^|[^:'"`\\])\/\/.*$/gm, '$1');
}

/** `file:line: text` of every row lock in `source`. */
function locksIn(file: string, source: string): string[] {
  const text = code(source);
  return [...text.matchAll(LOCK)].map((m) => `${file}:${text.slice(0, m.index).split('\n').length}: ${m[0]}`);
}

function tsFiles(dir: string): string[] {
  return readdirSync(path.join(ROOT, dir), { recursive: true, encoding: 'utf8' })
    .filter((f) => f.endsWith('.ts'))
    .map((f) => path.join(dir, f));
}

describe('row locks', () => {
  const files = [...tsFiles('src'), ...tsFiles('migrations')].filter((f) => !f.startsWith('src/generated'));
  const allowed = new Set([HOME, ...LOCKS_ELSEWHERE.map((e) => e.file)]);

  it('are taken only in src/consistency/locks.ts and the exceptions it names', () => {
    const stray = files.filter((f) => !allowed.has(f)).flatMap((f) => locksIn(f, readFileSync(path.join(ROOT, f), 'utf8')));
    expect(stray).toEqual([]);
  });

  it('names each exception with a reason, and each exception still takes a lock (the list does not rot)', () => {
    for (const exception of LOCKS_ELSEWHERE) {
      expect(exception.reason.length).toBeGreaterThan(40);
      expect(locksIn(exception.file, readFileSync(path.join(ROOT, exception.file), 'utf8')).length).toBeGreaterThan(0);
    }
    expect(locksIn(HOME, readFileSync(path.join(ROOT, HOME), 'utf8')).length).toBeGreaterThan(5);
  });

  it('are recognised in every spelling the scan must catch, and comments are not code', () => {
    const clause = fc.constantFrom('FOR UPDATE', 'for update', 'FOR  NO KEY UPDATE', 'FOR SHARE', 'For Key Share', "setLock('pessimistic_write')", "lock: { mode: 'pessimistic_read' }", 'lock:{mode}');
    fc.assert(
      fc.property(clause, fc.constantFrom('`SELECT 1 ', "const q = '", 'find(X, { '), (c, before) => {
        expect(locksIn('x.ts', `${before}${c}`)).toHaveLength(1);
        expect(locksIn('x.ts', `// ${c}\n/* ${c} */\n/**\n * ${c}\n */`)).toHaveLength(0);
      }),
    );
  });
});
