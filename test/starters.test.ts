/**
 * Issue #23: one way to start the server in a test's own process (`startTestServer` /
 * `useTestServer`, test/harness.ts) and one to run `hub` in a child process (test/support/
 * child-server.ts). A second starter drifts from the first (pool sizes, secrets, environments,
 * how a process is stopped), so this fails when a test file creates the hub's server or spawns
 * `hub` anywhere else. Benchmarks (`*.bench.ts`, run by hand) keep their own process control.
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';

const TEST = __dirname;
const STARTERS = new Set(['harness.ts', path.join('support', 'child-server.ts')]);

/** Why `source` starts a server of its own, or undefined. */
function starts(source: string): string | undefined {
  if (/\bcreateServer\b/.test(source) && /from '[./]*src\/server'/.test(source)) return "calls the hub's createServer";
  const spawns = /\b(?:spawn|spawnSync|fork|exec|execFile|execFileSync)\s*\(/.test(source);
  if (spawns && /bin[/'", ]+hub\.js|src\/main['"]|hub-from-sources|serve-child/.test(source)) return 'spawns hub';
  return undefined;
}

describe('test server starters', () => {
  it('are test/harness.ts (in process) and test/support/child-server.ts (child processes), and no other file', () => {
    const files = readdirSync(TEST, { recursive: true, encoding: 'utf8' }).filter(
      (f) => /\.tsx?$/.test(f) && !f.endsWith('.bench.ts') && !STARTERS.has(f) && f !== path.basename(__filename),
    );
    expect(files.length).toBeGreaterThan(80);
    const offenders = files.flatMap((f) => {
      const why = starts(readFileSync(path.join(TEST, f), 'utf8'));
      return why ? [`${f}: ${why}`] : [];
    });
    expect(offenders).toEqual([]);
  });

  it('recognizes a starter (the check itself)', () => {
    expect(starts(`import { createServer } from '../../src/server';\nawait createServer({ dataSource });`)).toBe("calls the hub's createServer");
    expect(starts(`const c = spawn(process.execPath, [path.join(ROOT, 'bin', 'hub.js'), 'serve']);`)).toBe('spawns hub');
    expect(starts(`fork(require.resolve('../src/main'), ['serve']);`)).toBe('spawns hub');
    expect(starts(`const s = net.createServer();\nspawn('psql', ['-c', 'SELECT 1']);`)).toBeUndefined();
    expect(starts(`await run(process.execPath, ['-e', 'require("@graphql-codegen/cli")']);`)).toBeUndefined();
  });
});
