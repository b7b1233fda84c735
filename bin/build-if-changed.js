#!/usr/bin/env node
// `npm start`'s build step: runs `tsc -p tsconfig.build.json` only when a source is newer than
// the last build (the first start built in ~18 of its ~20 s; a second start with nothing changed
// builds nothing). Sources: what tsconfig.build.json includes, examples/ (bench imports the
// typed documents), the tsconfig files and package.json. The stamp is written after a
// successful build only, so a failed build is retried next time.
'use strict';
const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

const STAMP = path.join('dist', '.build-stamp');

/** The newest modification time (ms) under `entry`, a file or a directory; 0 if absent. */
function newest(entry) {
  let stat;
  try {
    stat = fs.statSync(entry);
  } catch {
    return 0;
  }
  if (!stat.isDirectory()) return stat.mtimeMs;
  let latest = stat.mtimeMs;
  for (const name of fs.readdirSync(entry)) {
    if (name === 'node_modules' || name === 'dist' || name.startsWith('.')) continue;
    latest = Math.max(latest, newest(path.join(entry, name)));
  }
  return latest;
}

/** The sources whose change needs a build, relative to `root`. */
function sources(root) {
  const config = JSON.parse(fs.readFileSync(path.join(root, 'tsconfig.build.json'), 'utf8'));
  return [...(config.include ?? []), 'examples', 'tsconfig.json', 'tsconfig.build.json', 'package.json'].map((p) => path.join(root, p));
}

/** Whether `root`'s build is missing or older than a source. */
function stale(root) {
  const built = newest(path.join(root, STAMP));
  return built === 0 || sources(root).some((source) => newest(source) > built);
}

function buildIfChanged(root = process.cwd()) {
  if (!stale(root)) {
    console.log('build: up to date (no source changed since the last build)');
    return 0;
  }
  const started = Date.now();
  const stampTime = Date.now();
  const tsc = require.resolve('typescript/bin/tsc');
  const run = spawnSync(process.execPath, [tsc, '-p', path.join(root, 'tsconfig.build.json')], { cwd: root, stdio: 'inherit' });
  if (run.status !== 0) return run.status ?? 1;
  fs.mkdirSync(path.join(root, 'dist'), { recursive: true });
  fs.writeFileSync(path.join(root, STAMP), '');
  // The build's start, not its end: a source saved while tsc ran counts as changed next time.
  fs.utimesSync(path.join(root, STAMP), stampTime / 1000, stampTime / 1000);
  console.log(`build: compiled in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  return 0;
}

module.exports = { stale, buildIfChanged };
if (require.main === module) process.exitCode = buildIfChanged();
