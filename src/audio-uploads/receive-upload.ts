import express from 'express';
import { DataSource } from 'typeorm';
import { Config } from '../config';
import { writeTransaction } from '../db/write-transaction';
import { Logger } from '../logger';
import { keyOfPath } from '../storage/audio-handler';
import { sendStorageError } from '../storage/http-errors';
import { LocalAudioStorage, StagedObject, UploadBodyError } from '../storage/local-storage';
import { AudioStorage } from '../storage/storage';
import { AudioUpload } from './audio-upload.entity';

export interface UploadRouteDeps {
  dataSource: DataSource;
  config: Config;
  storage: AudioStorage;
  logger: Logger;
}

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
 * 413 / 400) and, holding the upload row's lock, renames it under the key and records the upload
 * as completed, so a replayed or concurrent PUT finds it completed and leaves nothing behind.
 * Every refusal is a coded JSON 4xx: `{ "error": { "code", "message" } }`.
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
        if (error instanceof UploadBodyError) {
          refuse(error.reason === 'too-large' ? 413 : 400, error.reason === 'too-large' ? 'TOO_LARGE' : 'INCOMPLETE_BODY', error.message);
        }
        throw error;
      });
      const done = staged;
      await writeTransaction(deps, async (manager) => {
        const upload = await manager.findOne(AudioUpload, { where: { key }, lock: { mode: 'pessimistic_write' } });
        assertOpen(upload);
        await done.commit();
        upload.completedAt = new Date();
        await manager.save(upload);
      });
      staged = undefined;
      res.status(200).json({ key, contentType: pending.contentType, byteSize: pending.byteSize });
    } catch (error) {
      // A refusal before the body was read: the connection cannot be reused for the next request.
      if (!req.complete) res.setHeader('connection', 'close');
      if (error instanceof Refusal) {
        sendStorageError(res, error.status, error.code, error.message);
      } else {
        deps.logger.error({ err: error }, 'audio upload failed');
        sendStorageError(res, 500, 'INTERNAL_SERVER_ERROR', 'the upload could not be stored');
      }
    } finally {
      await staged?.discard();
    }
  });
  return router;
}
