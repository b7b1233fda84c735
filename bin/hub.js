#!/usr/bin/env -S node --max-semi-space-size=24 --no-allocation-site-pretenuring
// The `hub` CLI runs the compiled code (`npm run build` emits dist/); tsc keeps the
// decorator metadata TypeORM needs, which tsx/esbuild would drop.
//
// The shebang's V8 flags are the server's (src/cli/v8-flags.ts, the one list): given here, as
// by `npm start`, `hub serve` runs in this process; started without them (`node bin/hub.js
// serve`), it relaunches itself with them, and its cluster workers always get them.
'use strict';
require('../dist/src/main.js').main(process.argv.slice(2));
