// How the dashboard talks to the hub (app.ts and panels.ts): where, as whom, and how it sends a
// document. Where: the server that served the page, or the hub named once by `?hub=<origin>`
// (another origin, which the hub must list in HUB_CORS_ORIGINS). As whom: the token given once as
// `?token=`. Both are kept in this browser and leave the address bar. How: by trusted-document id
// (`documentId` from gql/persisted-documents.json, all that HUB_TRUSTED_DOCUMENTS=require runs),
// and as text from the first answer saying the server serves no trusted documents or lacks the id.
import { TypedDocumentString } from './gql/graphql.js';

interface GraphQLErrorLike {
  message: string;
  extensions?: { reason?: string };
}
export interface Result<R> {
  data?: R;
  errors?: GraphQLErrorLike[];
}
interface WsClient {
  subscribe(payload: object, sink: { next(v: unknown): void; error(e: unknown): void; complete(): void }): () => void;
  dispose(): void;
}
declare const graphqlWs: { createClient(options: { url: string; connectionParams: Record<string, string>; retryAttempts?: number; shouldRetry?: () => boolean }): WsClient };

const params = new URLSearchParams(location.search);
for (const [param, key] of [['token', 'hub:token'], ['hub', 'hub:url']]) {
  const value = params.get(param);
  if (value) localStorage.setItem(key, value);
  else if (value === '') localStorage.removeItem(key); // `?hub=`: back to the server that served the page
}
if (params.has('token') || params.has('hub')) history.replaceState(null, '', location.pathname);

export const token = localStorage.getItem('hub:token') ?? '';
const hub = localStorage.getItem('hub:url');
const graphqlUrl = hub ? new URL('/graphql', hub) : new URL('../graphql', location.href);

/** Refusals that mean "send the text": the server runs no trusted documents, or not this one. */
const ID_REFUSED = new Set(['TRUSTED_DOCUMENTS_OFF', 'UNKNOWN_DOCUMENT_ID']);
let byId = true;

function idOf<R, V>(document: TypedDocumentString<R, V>): string | undefined {
  return byId ? (document.__meta__ as { hash?: string } | undefined)?.hash : undefined;
}

/** Whether `errors` refuse a document id; if so, this page sends text from now on. */
function idRefused(errors: unknown): boolean {
  const refused = Array.isArray(errors) && errors.some((e: GraphQLErrorLike) => ID_REFUSED.has(e?.extensions?.reason ?? ''));
  if (refused) byId = false;
  return refused;
}

export async function query<R, V>(document: TypedDocumentString<R, V>, variables: V): Promise<R> {
  const id = idOf(document);
  const response = await fetch(graphqlUrl, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: JSON.stringify(id ? { documentId: id, variables } : { query: document.toString(), variables }),
  });
  const body = (await response.json()) as Result<R>;
  if (id && idRefused(body.errors)) return query(document, variables);
  if (!body.data) throw new Error(body.errors?.map((e) => e.message).join('; ') ?? `HTTP ${response.status}`);
  return body.data;
}

/**
 * A graphql-ws client that retries forever, subscribed to `document` (with `variables`); `sink.error` is called when
 * the subscription ends in error (the connection is gone: the caller starts again).
 */
export function subscribe<R, V>(document: TypedDocumentString<R, V>, sink: { next(result: Result<R>): void; error(): void }, variables?: V): WsClient {
  const client = graphqlWs.createClient({
    url: graphqlUrl.href.replace(/^http/, 'ws'),
    connectionParams: { authorization: `Bearer ${token}` },
    retryAttempts: Infinity,
    shouldRetry: () => true,
  });
  const start = () => {
    const id = idOf(document);
    // graphql-ws's client sends only a string `query`: "" stands for none beside a documentId.
    client.subscribe(id ? { query: '', documentId: id, variables } : { query: document.toString(), variables }, {
      next: (result) => sink.next(result as Result<R>),
      error: (error) => (id && idRefused(error) ? start() : sink.error()),
      complete: () => undefined,
    });
  };
  start();
  return client;
}
