import express from 'express';
import { DataSource } from 'typeorm';
import { Config } from '../config';
import { lockUpload } from '../consistency/locks';
import { writeTransaction } from '../db/write-transaction';
import { isDatabaseUnavailable } from '../errors.format';
import { isClientGone } from '../http/client-errors';
import { Logger } from '../logger';
import { keyOfPath } from '../storage/audio-handler';
import { sendStorageError } from '../storage/http-errors';
import { LocalAudioStorage, StagedObject, UploadBodyError } from '../storage/local-storage';
import { AudioStorage } from '../storage/audio-storage';
import { AudioUpload } from './audio-upload.entity';

export interface UploadRouteDeps {
  dataSource: DataSource;
  config: Config;
  storage: AudioStorage;
  logger: Logger;
}

/** What a 503 tells the client to wait before sending the same upload again. */
const UNAVAILABLE_RETRY_AFTER_SECONDS = 5;

/** A refusal: status, stable code, message. */
class Refusal extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

function refuse(status: number, code: string, message: string): never {
  throw new Refusal(status, code, message);
}

/** How each way a body can fail is answered. */
const BODY_REFUSALS: Record<UploadBodyError['reason'], [number, string]> = {
  'too-large': [413, 'TOO_LARGE'],
  incomplete: [400, 'INCOMPLETE_BODY'],
  'too-slow': [408, 'UPLOAD_TOO_SLOW'],
  'in-progress': [409, 'UPLOAD_IN_PROGRESS'],
};

/** Uploads still open for bytes: present, not completed nor attached, not expired. */
function assertOpen(upload: AudioUpload | null): asserts upload is AudioUpload {
  if (!upload) refuse(404, 'UPLOAD_NOT_FOUND', 'no pending upload for this key (it expired, or its session is gone)');
  if (upload.completedAt || upload.messageId) refuse(409, 'UPLOAD_COMPLETED', 'this upload already has its bytes; an upload URL works once');
  if (upload.expiresAt.getTime() <= Date.now()) refuse(403, 'UPLOAD_EXPIRED', 'the upload URL has expired');
}

/**
 * The local driver's upload endpoint, `PUT /audio/<key>?expires=…&signature=…` (object stores
 * serve their own presigned PUT). Checks, before reading a byte: a `Content-Length` (411), the
 * signature over key, content type, length and expiry (403 `SIGNATURE_INVALID`, or
 * `UPLOAD_EXPIRED`), the size limit (413) and the pending upload row (404 gone, 409 replayed).
 * Then streams exactly the declared bytes to a staging file (a body longer or shorter fails:
 * 413 / 400; slower than HUB_AUDIO_MIN_UPLOAD_RATE over a stall window: 408 `UPLOAD_TOO_SLOW`;
 * while another body for the same URL is being received: 409 `UPLOAD_IN_PROGRESS`) and, holding the upload row's lock, renames it under the key and records the upload
 * as completed, so a replayed or concurrent PUT finds it completed and leaves nothing behind.
 * Every refusal is a coded JSON 4xx: `{ "error": { "code", "message" } }`; while the database
 * is unreachable the answer is 503 `UNAVAILABLE` with `retry-after`, and nothing is kept.
 */
export function uploadRouter(deps: UploadRouteDeps): express.Router {
  const router = express.Router();
  router.put(/.*/, async (req, res) => {
    let staged: StagedObject | undefined;
    try {
      const { storage } = deps;
      if (!(storage instanceof LocalAudioStorage)) refuse(404, 'NOT_FOUND', 'uploads go to the object store with the configured storage driver');
      const key = keyOfPath(req.path) ?? refuse(403, 'SIGNATURE_INVALID', 'invalid upload signature');
      const length = req.headers['content-length'];
      if (typeof length !== 'string' || !/^\d{1,10}$/.test(length)) refuse(411, 'LENGTH_REQUIRED', 'an upload needs a Content-Length header');
      const byteSize = Number(length);
      const contentType = req.headers['content-type'];
      const verdict = storage.signer.verifyUpload({ key, contentType, byteSize, expires: req.query.expires, signature: req.query.signature });
      if (verdict === 'invalid') {
        refuse(403, 'SIGNATURE_INVALID', 'the signature does not match this key, Content-Type, Content-Length and expiry');
      }
      if (verdict === 'expired') refuse(403, 'UPLOAD_EXPIRED', 'the upload URL has expired');
      if (byteSize > deps.config.audioMaxBytes) refuse(413, 'TOO_LARGE', `an upload is at most ${deps.config.audioMaxBytes} bytes`);
      const pending = await deps.dataSource.getRepository(AudioUpload).findOneBy({ key });
      assertOpen(pending);

      staged = await storage.receive(key, req, { contentType: pending.contentType, byteSize: pending.byteSize }).catch((error: unknown) => {
        if (error instanceof UploadBodyError) refuse(...BODY_REFUSALS[error.reason], error.message);
        throw error;
      });
      const done = staged;
      await writeTransaction(deps, async (manager) => {
        const upload = await lockUpload(manager, key);
        assertOpen(upload);
        await done.commit();
        upload.completedAt = new Date();
        await manager.save(upload);
      });
      staged = undefined;
      res.status(200).json({ key, contentType: pending.contentType, byteSize: pending.byteSize });
    } catch (error) {
      // Gone before the answer: a client told "try again" finds nothing of its first attempt.
      await staged?.discard();
      // A refusal before the body was read: the connection cannot be reused for the next request.
      if (!req.complete) res.setHeader('connection', 'close');
      if (clientLeft(req, error)) {
        // The client's own socket ended mid-body (its ECONNRESET is no database outage): nobody
        // reads an answer, nothing is wrong with the server, and clientDepartures logs it once.
        res.destroy();
      } else if (error instanceof Refusal) {
        sendStorageError(res, error.status, error.code, error.message);
      } else if (isDatabaseUnavailable(error)) {
        // Not the upload's fault: the same URL works once the database is back (nothing was kept).
        deps.logger.warn({ err: error }, 'database unavailable during an audio upload');
        res.setHeader('retry-after', String(UNAVAILABLE_RETRY_AFTER_SECONDS));
        sendStorageError(res, 503, 'UNAVAILABLE', 'The database is unavailable; try again shortly');
      } else {
        deps.logger.error({ err: error }, 'audio upload failed');
        sendStorageError(res, 500, 'INTERNAL_SERVER_ERROR', 'the upload could not be stored');
      }
    }
  });
  return router;
}

/** The request's socket is gone before its answer (reset or closed by the client). */
function clientLeft(req: express.Request, error: unknown): boolean {
  return isClientGone(error) || req.socket.destroyed || (!req.complete && req.destroyed);
}
