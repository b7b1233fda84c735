/**
 * Follows a session's messages over graphql-ws with the typed MessageAdded document, and resumes
 * after any disconnect (network loss, a server restart, a slow-consumer close 4413) from the last
 * cursor it received, so nothing is missed and nothing arrives twice:
 *   HUB_TOKEN=<token> SESSION_ID=<id> node dist/follow.js
 * HUB_URL defaults to http://127.0.0.1:4000/graphql.
 */
import { print } from 'graphql';
import type { ResultOf } from '@graphql-typed-document-node/core';
import { createClient } from 'graphql-ws';
import WebSocket from 'ws';
import { MessageAddedDocument } from './live/generated';

export type MessageEdge = ResultOf<typeof MessageAddedDocument>['messageAdded'];

export interface Follower {
  /** The cursor of the last message received: pass it as `after` to resume elsewhere. */
  readonly lastCursor: string | null;
  /** Resubscriptions made after a disconnect. */
  readonly resumes: number;
  stop(): Promise<void>;
}

/** Codes that will not get better by retrying: a bad token, bad input, a session not visible. */
const FINAL = new Set(['UNAUTHENTICATED', 'BAD_USER_INPUT', 'NOT_FOUND', 'FORBIDDEN']);

export function followMessages(
  url: string,
  token: string,
  sessionId: string,
  onMessage: (edge: MessageEdge) => void,
  options: { after?: string | null; onError?: (error: unknown) => void; retryDelayMs?: number } = {},
): Follower {
  let lastCursor = options.after ?? null;
  let resumes = 0;
  let stopped = false;
  // No automatic retries inside graphql-ws: it would resubscribe with the original `after`.
  const client = createClient({
    url: url.replace(/^http/, 'ws'),
    webSocketImpl: WebSocket,
    retryAttempts: 0,
    connectionParams: { authorization: `Bearer ${token}` },
  });
  let unsubscribe = () => {};
  const subscribe = () => {
    unsubscribe = client.subscribe<ResultOf<typeof MessageAddedDocument>>(
      { query: print(MessageAddedDocument), variables: { sessionId, after: lastCursor } },
      {
        next: ({ data, errors }) => {
          if (data) {
            lastCursor = data.messageAdded.cursor;
            onMessage(data.messageAdded);
          }
          if (errors?.length) options.onError?.(errors);
        },
        error: (error) => {
          const codes = Array.isArray(error) ? error.map((e) => e.extensions?.code) : [];
          options.onError?.(error);
          if (stopped || codes.some((code) => FINAL.has(String(code)))) return;
          resumes += 1;
          setTimeout(() => !stopped && subscribe(), options.retryDelayMs ?? 500);
        },
        complete: () => undefined,
      },
    );
  };
  subscribe();
  return {
    get lastCursor() {
      return lastCursor;
    },
    get resumes() {
      return resumes;
    },
    async stop() {
      stopped = true;
      unsubscribe();
      await client.dispose();
    },
  };
}

async function main(): Promise<void> {
  const token = process.env.HUB_TOKEN;
  const sessionId = process.env.SESSION_ID;
  if (!token || !sessionId) throw new Error('Set HUB_TOKEN to a bearer token and SESSION_ID to a session id');
  followMessages(process.env.HUB_URL ?? 'http://127.0.0.1:4000/graphql', token, sessionId, (edge) => {
    console.log(`${edge.node.createdAt} ${edge.node.role}: ${edge.node.content}`);
  }, { after: process.env.AFTER ?? null, onError: (error) => console.error('live:', JSON.stringify(error)) });
}

if (require.main === module) {
  main().catch((error) => {
    console.error(error.message);
    process.exit(1);
  });
}
