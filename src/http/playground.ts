import path from 'node:path';
import { ApolloServerPlugin } from '@apollo/server';
import express from 'express';
import { operationOf } from './playground-operation';

/** GraphiQL's browser bundle and the React UMD builds it runs on, from node_modules. */
const ASSETS: Record<string, [pkg: string, file: string]> = {
  'react.js': ['react', 'umd/react.production.min.js'],
  'react-dom.js': ['react-dom', 'umd/react-dom.production.min.js'],
  'graphiql.js': ['graphiql', 'graphiql.min.js'],
  'graphiql.css': ['graphiql', 'graphiql.min.css'],
};

export const PLAYGROUND_ASSETS_PATH = '/playground';

/** The playground is served in development only, and not with HUB_TRUSTED_DOCUMENTS=require: it
 * sends documents as text, which that mode refuses, so it could run nothing. */
export function playgroundServed(config: { production: boolean; trustedDocuments: string }): boolean {
  return !config.production && config.trustedDocuments !== 'require';
}

/** Serves the playground's assets from the server itself, so it works offline (no CDN). */
export function playgroundAssets(): express.Router {
  const router = express.Router();
  for (const [name, [pkg, relative]] of Object.entries(ASSETS)) {
    // The packages do not export these files; find them beside their package.json.
    const file = path.join(path.dirname(require.resolve(`${pkg}/package.json`)), relative);
    router.get(`/${name}`, (_req, res) => {
      res.sendFile(file, { maxAge: '1d', headers: { 'content-type': name.endsWith('.css') ? 'text/css' : 'text/javascript' } });
    });
  }
  return router;
}

const PAGE = `<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8" />
  <title>Hub Session Graph — playground</title>
  <link rel="stylesheet" href="${PLAYGROUND_ASSETS_PATH}/graphiql.css" />
  <style>html, body, #graphiql { height: 100%; margin: 0; }</style>
</head>
<body>
  <div id="graphiql">Loading the playground…</div>
  <script src="${PLAYGROUND_ASSETS_PATH}/react.js"></script>
  <script src="${PLAYGROUND_ASSETS_PATH}/react-dom.js"></script>
  <script src="${PLAYGROUND_ASSETS_PATH}/graphiql.js"></script>
  <script>
    // A token in the URL (the link \`hub serve\` prints: /graphql?token=…) becomes the
    // Authorization header, is remembered for this browser, and leaves the address bar.
    const params = new URLSearchParams(location.search);
    const token = params.get('token');
    if (token) localStorage.setItem('hub:token', token);
    if (token || params.has('query')) history.replaceState(null, '', location.pathname);
    const query = params.get('query');
    // The first document shown: an operator's dashboard over the last seven UTC days.
    function dashboardDocument() {
      const day = 86400000;
      const to = new Date(Math.ceil((Date.now() + 1) / day) * day);
      const from = new Date(to.getTime() - 7 * day);
      return [
        '# Paste a token as {"Authorization": "Bearer <token>"} in Headers below,',
        '# or open the link hub serve printed.',
        'query Dashboard {',
        '  me { displayName role }',
        '  activity(from: "' + from.toISOString() + '", to: "' + to.toISOString() + '", bucket: DAY) {',
        '    start sessionsCreated messagesPosted messagesWithAudio activeUsers',
        '  }',
        '  nodeSyncSummary { nodeId counts { status count } oldestPendingSince lastReportAt }',
        '  searchMessages(query: "draft OR deadline -notes", first: 5) {',
        '    totalCount',
        '    edges { rank highlight node { id createdAt session { id title } } }',
        '  }',
        '}',
        '',
      ].join('\\n');
    }
    const saved = localStorage.getItem('hub:token');
    const headers = saved ? JSON.stringify({ Authorization: 'Bearer ' + saved }, null, 2) : '';
    // Subscriptions run over graphql-ws on the same path; GraphiQL passes the Headers pane as the
    // connection params, so the Authorization header authenticates the socket too.
    const send = GraphiQL.createFetcher({
      url: location.pathname,
      subscriptionUrl: (location.protocol === 'https:' ? 'wss://' : 'ws://') + location.host + location.pathname,
    });
    // GraphiQL picks the socket from its own parse of the editor, which lags behind typing: the
    // transport is picked here from the text being sent (src/http/playground-operation.ts).
    ${operationOf.toString()}
    const fetcher = (params, options) => {
      const chosen = operationOf(params.query || '', params.operationName);
      const documentAST = chosen && {
        kind: 'Document',
        definitions: [{ kind: 'OperationDefinition', operation: chosen.operation, name: chosen.name && { kind: 'Name', value: chosen.name } }],
      };
      return send({ ...params, operationName: chosen ? chosen.name : params.operationName }, { ...options, documentAST });
    };
    ReactDOM.createRoot(document.getElementById('graphiql')).render(
      React.createElement(GraphiQL, {
        fetcher,
        defaultHeaders: headers,
        headerEditorEnabled: true,
        shouldPersistHeaders: true,
        query: query || undefined,
        defaultQuery: dashboardDocument(),
      }),
    );
  </script>
</body>
</html>`;

/** Apollo's landing page hook: GET /graphql from a browser answers with the local GraphiQL. */
export function playgroundPlugin(): ApolloServerPlugin {
  return {
    async serverWillStart() {
      return {
        async renderLandingPage() {
          return { html: PAGE };
        },
      };
    },
  };
}
