#!/usr/bin/env -S node --max-semi-space-size=64
// The `hub` CLI runs the compiled code (`npm run build` emits dist/); tsc keeps the
// decorator metadata TypeORM needs, which tsx/esbuild would drop.
//
// --max-semi-space-size=64: a GraphQL response allocates many short-lived objects; a larger
// young generation (V8's default semi-space is 16 MB) means fewer scavenges and gave the
// dashboard about 15% more requests/s in bench/. `npm start` passes the same flag.
'use strict';
require('../dist/src/main.js').main(process.argv.slice(2));
