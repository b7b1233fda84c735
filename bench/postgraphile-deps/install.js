#!/usr/bin/env node
// `npm run bench` (its prebench step): installs PostGraphile into bench/postgraphile-deps/node_modules
// from this folder's lock file, once. It is kept out of the hub's own dependencies because its
// packages ask for Node 22 (`engines`), which would warn on every `npm install` of the hub on Node 20;
// the bench polyfills what it needs (bench/postgraphile.ts).
'use strict';
const { existsSync } = require('node:fs');
const path = require('node:path');
const { spawnSync } = require('node:child_process');

const dir = __dirname;
const wanted = require('./package.json').dependencies.postgraphile;
const installed = path.join(dir, 'node_modules', 'postgraphile', 'package.json');
if (existsSync(installed) && require(installed).version === wanted) process.exit(0);
console.log(`Installing PostGraphile ${wanted} for the bench into ${path.relative(process.cwd(), dir)}/node_modules (once)…`);
const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
const result = spawnSync(npm, ['ci', '--prefix', dir, '--no-audit', '--no-fund', '--loglevel=error', '--engine-strict=false'], { stdio: 'inherit' });
process.exit(result.status ?? 1);
