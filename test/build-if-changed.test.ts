/**
 * `npm start` builds only when a source changed (bin/build-if-changed.js): on a small project of
 * its own (a tsconfig.build.json including src/), the first run compiles, a second with nothing
 * changed compiles nothing, and a change to any watched source (a file under an included folder,
 * examples/, a tsconfig, package.json) or a missing build compiles again.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawnSync } from 'node:child_process';

const SCRIPT = path.join(__dirname, '..', 'bin', 'build-if-changed.js');

function start(root: string): string {
  const run = spawnSync(process.execPath, [SCRIPT], { cwd: root, encoding: 'utf8', timeout: 120_000 });
  expect(run.status).toBe(0);
  return run.stdout;
}

/** Marks `file` as saved `seconds` from now (mtime resolution is coarse on some filesystems). */
function touch(file: string, seconds: number): void {
  const when = Date.now() / 1000 + seconds;
  fs.utimesSync(file, when, when);
}

describe('npm start builds only when sources changed', () => {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'hub-build-'));
  afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

  it('compiles on the first start, not on the second, and again after a change', () => {
    fs.mkdirSync(path.join(root, 'src'));
    fs.mkdirSync(path.join(root, 'examples'));
    fs.writeFileSync(path.join(root, 'package.json'), '{}');
    fs.writeFileSync(path.join(root, 'tsconfig.json'), JSON.stringify({ compilerOptions: { outDir: 'dist', rootDir: '.', module: 'commonjs', target: 'es2022' } }));
    fs.writeFileSync(path.join(root, 'tsconfig.build.json'), JSON.stringify({ extends: './tsconfig.json', include: ['src'] }));
    fs.writeFileSync(path.join(root, 'src', 'main.ts'), 'export const answer: number = 42;\n');
    fs.writeFileSync(path.join(root, 'examples', 'note.ts'), '');

    expect(start(root)).toMatch(/build: compiled/);
    const output = path.join(root, 'dist', 'src', 'main.js');
    expect(fs.readFileSync(output, 'utf8')).toContain('42');
    const builtAt = fs.statSync(output).mtimeMs;

    expect(start(root)).toMatch(/build: up to date/);
    expect(fs.statSync(output).mtimeMs).toBe(builtAt);

    // Which changes count (decided without compiling again: one tsc run is enough to prove the rest).
    const { stale } = require(SCRIPT) as { stale(root: string): boolean };
    let step = 10;
    for (const changed of ['src/main.ts', 'examples/note.ts', 'tsconfig.json', 'tsconfig.build.json', 'package.json']) {
      touch(path.join(root, changed), (step += 10));
      expect({ changed, stale: stale(root) }).toEqual({ changed, stale: true });
      touch(path.join(root, 'dist', '.build-stamp'), step + 5);
      expect({ changed, stale: stale(root) }).toEqual({ changed, stale: false });
    }
    fs.rmSync(path.join(root, 'dist', '.build-stamp'));
    expect(stale(root)).toBe(true);
  });
});
