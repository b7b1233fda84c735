import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { NextFunction, Request, Response } from 'express';
import { GraphQLError } from 'graphql';
import type { TrustedDocumentsMode } from '../config';
import { documentRefused } from './document-limits';

const DOCUMENT_ID = /^sha256:([0-9a-f]{64})$/;

/**
 * The trusted (persisted) documents: the manifest `@graphql-codegen/client-preset` writes with
 * `persistedDocuments` (`{"sha256:<hex>": "<document>"}`), and the mode that decides whether
 * plain text may still run. `off`: text only (a `documentId` is refused); `allow`: both; `require`:
 * only a `documentId` from the manifest, so production runs only what client teams generated.
 */
export interface TrustedDocuments {
  mode: TrustedDocumentsMode;
  /** Document text by the hex sha256 of that text. */
  documents: ReadonlyMap<string, string>;
  /** See OperationGuard.documentText. */
  textOf(params: { query?: unknown; documentId?: unknown; extensions?: unknown }): string | undefined;
}

/** Reads and checks the manifest: every key is `sha256:` and the hex sha256 of its document. */
export function readManifest(file: string): Map<string, string> {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(file, 'utf8'));
  } catch (error) {
    throw new Error(`HUB_TRUSTED_DOCUMENTS_FILE ${file} cannot be read as JSON: ${(error as Error).message}`);
  }
  if (!raw || typeof raw !== 'object' || Array.isArray(raw)) {
    throw new Error(`HUB_TRUSTED_DOCUMENTS_FILE ${file} must be an object of "sha256:<hex>": "<document>"`);
  }
  const documents = new Map<string, string>();
  const problems: string[] = [];
  for (const [id, text] of Object.entries(raw)) {
    const hex = DOCUMENT_ID.exec(id)?.[1];
    if (!hex) problems.push(`"${id.slice(0, 80)}" is not sha256:<64 hex digits>`);
    else if (typeof text !== 'string') problems.push(`${id}: the document is not a string`);
    else if (createHash('sha256').update(text).digest('hex') !== hex) problems.push(`${id}: the hash does not match its document`);
    else documents.set(hex, text);
  }
  if (problems.length) throw new Error(`HUB_TRUSTED_DOCUMENTS_FILE ${file}:\n  - ${problems.join('\n  - ')}`);
  return documents;
}

export function trustedDocuments(mode: TrustedDocumentsMode, documents: ReadonlyMap<string, string> = new Map()): TrustedDocuments {
  return {
    mode,
    documents,
    textOf({ query, documentId, extensions }) {
      if (documentId !== undefined && documentId !== null) {
        if (query !== undefined && query !== null) {
          throw documentRefused('DOCUMENT_ID_AND_QUERY', 'Send either `documentId` or `query`, not both');
        }
        if (typeof documentId !== 'string') throw documentRefused('UNKNOWN_DOCUMENT_ID', '`documentId` must be a string like "sha256:<hex>"');
        if (mode === 'off') {
          throw documentRefused('TRUSTED_DOCUMENTS_OFF', 'This server does not serve trusted documents (HUB_TRUSTED_DOCUMENTS=off): send the document as `query`');
        }
        const hex = DOCUMENT_ID.exec(documentId)?.[1];
        const text = hex === undefined ? undefined : documents.get(hex);
        if (text === undefined) {
          throw documentRefused('UNKNOWN_DOCUMENT_ID', `No trusted document has the id "${documentId.slice(0, 80)}"`);
        }
        return text;
      }
      const persisted = typeof extensions === 'object' && extensions !== null && 'persistedQuery' in extensions;
      if (mode === 'require' && ((query !== undefined && query !== null) || persisted)) {
        throw documentRefused(
          'TRUSTED_DOCUMENT_REQUIRED',
          'This server runs only trusted documents: send `documentId` ("sha256:<hex>" from the codegen manifest), not a query text',
        );
      }
      return typeof query === 'string' ? query : undefined;
    },
  };
}

/** Loads the configured manifest (none in `off` mode). */
export function loadTrustedDocuments(mode: TrustedDocumentsMode, file: string | undefined): TrustedDocuments {
  return trustedDocuments(mode, mode === 'off' || !file ? new Map() : readManifest(file));
}

function extensionsOf(raw: string | null): unknown {
  if (raw === null) return undefined;
  try {
    return JSON.parse(raw);
  } catch {
    return undefined; // Apollo answers a malformed `extensions` parameter itself
  }
}

/** Answers a refusal in the API's JSON error shape. */
export function sendError(res: Response, error: GraphQLError): void {
  const { http, ...extensions } = error.extensions as { http?: { status?: number } };
  res.status(http?.status ?? 400).json({ errors: [{ message: error.message, extensions }] });
}

/**
 * Resolves `documentId` (POST body or GET parameter) to its trusted text before Apollo reads the
 * request, and refuses text where the mode forbids it. GET parameters are rewritten in the URL,
 * which is where Apollo's Express integration reads them.
 */
export function trustedDocumentsMiddleware(trusted: TrustedDocuments) {
  return (req: Request, res: Response, next: NextFunction): void => {
    try {
      if (req.method === 'GET') {
        const [path, search = ''] = req.url.split(/\?(.*)/s, 2);
        const params = new URLSearchParams(search);
        if (!params.has('documentId') && !params.has('query') && !params.has('extensions')) return next();
        const text = trusted.textOf({
          query: params.get('query') ?? undefined,
          documentId: params.get('documentId') ?? undefined,
          extensions: extensionsOf(params.get('extensions')),
        });
        if (params.has('documentId') && text !== undefined) {
          params.delete('documentId');
          params.set('query', text);
          req.url = `${path}?${params.toString()}`;
        }
        return next();
      }
      const body = req.body as Record<string, unknown> | undefined;
      if (!body || typeof body !== 'object' || Array.isArray(body)) return next();
      const text = trusted.textOf(body);
      if (body.documentId !== undefined && body.documentId !== null) {
        req.body = { ...body, query: text, documentId: undefined };
      }
      next();
    } catch (error) {
      if (error instanceof GraphQLError) return sendError(res, error);
      next(error);
    }
  };
}
