import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import express from 'express';

export const LIVE_DASHBOARD_PATH = '/live-dashboard';

/** examples/live-dashboard next to the package, found from src/live/ and dist/src/live/. */
function dashboardDir(): string | undefined {
  for (const up of [['..', '..'], ['..', '..', '..']]) {
    const dir = path.join(__dirname, ...up, 'examples', 'live-dashboard');
    if (existsSync(path.join(dir, 'index.html'))) return dir;
  }
  return undefined;
}

/**
 * Development only: serves the live operators' dashboard (examples/live-dashboard) from the
 * server itself, no CDN and no bundler. Its TypeScript modules are compiled on request with
 * TypeScript's transpiler (a development dependency, loaded only here) and cached; graphql-ws's
 * browser build comes from node_modules.
 */
export function liveDashboardAssets(): express.Router {
  const router = express.Router();
  const dir = dashboardDir();
  if (!dir) return router;
  const compiled = new Map<string, { mtimeMs: number; js: string }>();
  const graphqlWs = path.join(path.dirname(require.resolve('graphql-ws/package.json')), 'umd', 'graphql-ws.min.js');

  router.get('/', (req, res, next) => {
    // Relative asset URLs need the trailing slash.
    if (!req.originalUrl.split('?')[0].endsWith('/')) return res.redirect(301, `${LIVE_DASHBOARD_PATH}/${req.originalUrl.slice(LIVE_DASHBOARD_PATH.length)}`);
    res.sendFile(path.join(dir, 'index.html'), (error) => error && next(error));
  });
  router.get('/graphql-ws.js', (_req, res) => res.sendFile(graphqlWs, { headers: { 'content-type': 'text/javascript' } }));
  // Its modules, and the generated ones in gql/ (codegen's client preset writes a folder).
  router.get(/^\/((?:gql\/)?[a-z][\w-]*)\.js$/i, (req, res, next) => {
    const name = String((req.params as Record<string, string>)[0]);
    const file = path.join(dir, `${name}.ts`);
    if (!existsSync(file)) return next();
    try {
      const { mtimeMs } = require('node:fs').statSync(file) as { mtimeMs: number };
      let entry = compiled.get(file);
      if (!entry || entry.mtimeMs !== mtimeMs) {
        // eslint-disable-next-line @typescript-eslint/no-require-imports
        const ts = require('typescript') as typeof import('typescript');
        const js = ts.transpileModule(readFileSync(file, 'utf8'), {
          compilerOptions: { target: ts.ScriptTarget.ES2022, module: ts.ModuleKind.ES2022 },
          fileName: file,
        }).outputText;
        compiled.set(file, (entry = { mtimeMs, js }));
      }
      res.type('text/javascript').send(entry.js);
    } catch (error) {
      next(error);
    }
  });
  return router;
}
