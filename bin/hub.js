#!/usr/bin/env node
// The `hub` CLI runs the compiled code (`npm run build` emits dist/); tsc keeps the
// decorator metadata TypeORM needs, which tsx/esbuild would drop.
'use strict';
require('../dist/src/main.js').main(process.argv.slice(2));
