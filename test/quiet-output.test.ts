/**
 * `npm test`'s output carries test results, not noise: two suites that printed the Dashboard's SQL,
 * pg's "client.query() when the client is already executing a query" deprecation (the idle-time
 * DEALLOCATEs) and the AWS SDK's Node-version warning are run in a child jest, and its output is
 * searched for each of them.
 */
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { testDatabaseUrl } from './harness';

const ROOT = path.join(__dirname, '..');
const NOISE: [string, RegExp][] = [
  ['a console.log', /console\.log/],
  ['an SQL dump', /\bSELECT\b[\s\S]{0,200}\bFROM\b/],
  ['a deprecation warning', /DeprecationWarning/],
  ['the AWS SDK Node-version warning', /NodeVersionSupportWarning/],
];

describe('npm test output', () => {
  it('holds no stray logs, SQL dumps or warnings', () => {
    const run = spawnSync(
      process.execPath,
      [path.join(ROOT, 'node_modules', 'jest', 'bin', 'jest.js'), 'test/read/sql-budget.test.ts', 'test/audio/drivers.test.ts', '--maxWorkers=1'],
      {
        cwd: ROOT,
        encoding: 'utf8',
        // The child makes its own fresh database on the server this run uses.
        env: { PATH: process.env.PATH, HOME: process.env.HOME, DATABASE_URL: testDatabaseUrl(), CI: 'true' },
        timeout: 240_000,
      },
    );
    const output = `${run.stdout}${run.stderr}`;
    // Whether the child's tests pass is their own files' business; that they ran is this one's.
    expect(output).toMatch(/Tests:\s+.*\d+ total/);
    for (const [what, pattern] of NOISE) expect({ what, found: pattern.exec(output)?.[0] ?? null }).toEqual({ what, found: null });
  }, 300_000);
});
