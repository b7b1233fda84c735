/**
 * Issue #13, item 3: a value added in schema.graphql to an enum a client can send fails
 * `npm run typecheck` until the code handles it. A copy of the repository's schema and sources
 * gets one new value in each of the seven enums; codegen regenerates the schema and resolver types there with
 * the repository's own settings (codegen.ts), and one type check of the copy must fail at every
 * new value and at nothing else (so the copy itself is sound and each failure is the enum's).
 */
import { execFile } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import codegen from '../codegen';

const ROOT = path.resolve(__dirname, '..');
const RESOLVER_TYPES = 'src/generated/resolvers-types.ts';
const SCHEMA_TYPES = 'src/generated/schema-types.ts';
const ENUMS = ['SessionOrder', 'MessageOrder', 'DeletedFilter', 'MessageRole', 'SyncStatus', 'Role', 'MessageStatus'];
const added = (name: string) => `UNHANDLED_${name.toUpperCase()}`;
const run = promisify(execFile);

/** `schema` with one more value in each enum of ENUMS. */
function withNewValues(schema: string): string {
  return ENUMS.reduce((text, name) => {
    const head = new RegExp(`^enum ${name} \\{$`, 'm');
    if (!head.test(text)) throw new Error(`schema.graphql has no enum ${name}`);
    return text.replace(head, `enum ${name} {\n  "Added by test/enum-exhaustiveness.test.ts."\n  ${added(name)}`);
  }, schema);
}

/** tsc's errors, each with its continuation lines (where a missing property is named). */
function errorsOf(output: string): string[] {
  const errors: string[] = [];
  for (const line of output.split('\n')) {
    if (/\berror TS\d+:/.test(line)) errors.push(line);
    else if (line.startsWith(' ') && errors.length) errors[errors.length - 1] += `\n${line}`;
  }
  return errors;
}

describe('a value added to a client-sent enum and not handled', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'hub-enums-'));
    for (const entry of ['src', 'migrations', 'ormconfig.ts', 'package.json']) cpSync(path.join(ROOT, entry), path.join(dir, entry), { recursive: true });
    symlinkSync(path.join(ROOT, 'node_modules'), path.join(dir, 'node_modules'), 'dir');
    writeFileSync(path.join(dir, 'schema.graphql'), withNewValues(readFileSync(path.join(ROOT, 'schema.graphql'), 'utf8')));
    writeFileSync(
      path.join(dir, 'tsconfig.json'),
      JSON.stringify({ extends: path.join(ROOT, 'tsconfig.json'), compilerOptions: { rootDir: '.', types: ['node'] }, include: ['src'] }),
    );
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('fails the type check, naming each of the seven enums’ new values and nothing else', async () => {
    // The repository's settings for the resolver types, written into the copy (no other output).
    const generates = { [SCHEMA_TYPES]: codegen.generates[SCHEMA_TYPES], [RESOLVER_TYPES]: codegen.generates[RESOLVER_TYPES] };
    const config = { schema: 'schema.graphql', generates, silent: true };
    await run(process.execPath, ['-e', `require('@graphql-codegen/cli').generate(${JSON.stringify(config)}, true)`], { cwd: dir });
    for (const name of ENUMS) expect(readFileSync(path.join(dir, SCHEMA_TYPES), 'utf8')).toContain(`'${added(name)}'`);

    const tsc = path.join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc');
    const result = await run(process.execPath, [tsc, '--noEmit', '--pretty', 'false', '-p', 'tsconfig.json'], { cwd: dir }).then(
      () => ({ failed: false, stdout: '' }),
      (error: { stdout: string }) => ({ failed: true, stdout: error.stdout }),
    );
    expect(result.failed).toBe(true);
    const errors = errorsOf(result.stdout);
    expect(errors.filter((e) => !ENUMS.some((name) => e.includes(added(name))))).toEqual([]);
    // The enums whose new value the type check let through (none may be).
    expect(ENUMS.filter((name) => !errors.some((e) => e.includes(added(name))))).toEqual([]);
  }, 180_000);
});
