import express from 'express';
import path from 'node:path';
import { isAudioKey } from './audio-key';
import { servedContentType } from './content-type';
import { sendStorageError } from './http-errors';
import { LocalAudioStorage } from './local-storage';
import { AudioStorage } from './audio-storage';

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
 * What makes a stored object safe to open in a browser whatever bytes a client uploaded: only an
 * audio type by the upload rule is served as such (anything else as opaque bytes, downloaded);
 * no sniffing a type out of the bytes; a sandbox CSP, so even a document rendered from them runs
 * no script and reaches no origin; and a file name, so a saved file is named by its key.
 */
export function downloadHeaders(key: string, storedType: string | null): Record<string, string> {
  const contentType = servedContentType(storedType);
  const disposition = contentType === 'application/octet-stream' ? 'attachment' : 'inline';
  return {
    'content-type': contentType,
    'x-content-type-options': 'nosniff',
    'content-security-policy': "sandbox; default-src 'none'",
    // Keys are `[a-z0-9._-]` per segment (audio-key.ts), so the base name needs no quoting rules.
    'content-disposition': `${disposition}; filename="${path.posix.basename(key)}"`,
  };
}

/**
 * Serves the local driver's objects at `GET /audio/<key>?expires=…&signature=…`: only a
 * well-formed key with a valid, unexpired download signature is read from the audio directory
 * (403 `SIGNATURE_INVALID` otherwise, 404 `NOT_FOUND` for a missing object), with
 * `downloadHeaders`. Other drivers serve
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
    for (const [name, value] of Object.entries(downloadHeaders(key, object.contentType))) res.setHeader(name, value);
    res.sendFile(storage.fileOf(key), { dotfiles: 'allow' }, (error) => {
      if (error) sendStorageError(res, 404, 'NOT_FOUND', 'no such object');
    });
  });
  return router;
}
