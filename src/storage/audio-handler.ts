import express from 'express';
import { isAudioKey } from './audio-key';
import { sendStorageError } from './http-errors';
import { LocalAudioStorage } from './local-storage';
import { AudioStorage } from './storage';

/** The key named by a request path under the mount point, or `undefined` when it is not one. */
export function keyOfPath(requestPath: string): string | undefined {
  try {
    const key = requestPath.replace(/^\//, '').split('/').map(decodeURIComponent).join('/');
    return isAudioKey(key) ? key : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Serves the local driver's objects at `GET /audio/<key>?expires=…&signature=…`: only a
 * well-formed key with a valid, unexpired download signature is read from the audio directory
 * (403 `SIGNATURE_INVALID` otherwise, 404 `NOT_FOUND` for a missing object). Other drivers serve
 * their own URLs, so for them every request is 404.
 */
export function audioHandler(storage: AudioStorage): express.Router {
  const router = express.Router();
  router.get(/.*/, async (req, res) => {
    if (!(storage instanceof LocalAudioStorage)) {
      sendStorageError(res, 404, 'NOT_FOUND', 'audio is not served by this server with the configured storage driver');
      return;
    }
    const key = keyOfPath(req.path);
    if (!key || !storage.signer.verify(key, req.query.expires, req.query.signature)) {
      sendStorageError(res, 403, 'SIGNATURE_INVALID', 'invalid or expired signature');
      return;
    }
    const object = await storage.head(key).catch(() => null);
    if (!object) {
      sendStorageError(res, 404, 'NOT_FOUND', 'no such object');
      return;
    }
    res.setHeader('cache-control', 'private, max-age=300');
    if (object.contentType) res.setHeader('content-type', object.contentType);
    res.sendFile(storage.fileOf(key), { dotfiles: 'allow' }, (error) => {
      if (error) sendStorageError(res, 404, 'NOT_FOUND', 'no such object');
    });
  });
  return router;
}
