import express from 'express';
import { isAudioKey } from './audio-key';
import { LocalAudioStorage } from './local-storage';
import { AudioStorage } from './storage';

/**
 * Serves the local driver's objects at `/audio/<key>?expires=…&signature=…`: only a well-formed
 * key with a valid, unexpired signature is read from the audio directory (403 otherwise, 404 for a
 * missing object). Other drivers serve their own URLs, so for them every request is 404.
 */
export function audioHandler(storage: AudioStorage): express.Router {
  const router = express.Router();
  router.get(/.*/, (req, res) => {
    if (!(storage instanceof LocalAudioStorage)) {
      res.status(404).json({ error: 'not found' });
      return;
    }
    let key: string;
    try {
      key = req.path.replace(/^\//, '').split('/').map(decodeURIComponent).join('/');
    } catch {
      res.status(400).json({ error: 'malformed key' });
      return;
    }
    if (!isAudioKey(key) || !storage.signer.verify(key, req.query.expires, req.query.signature)) {
      res.status(403).json({ error: 'invalid or expired signature' });
      return;
    }
    res.setHeader('cache-control', 'private, max-age=300');
    res.sendFile(storage.fileOf(key), { dotfiles: 'allow' }, (error) => {
      if (error && !res.headersSent) res.status(404).json({ error: 'not found' });
    });
  });
  return router;
}
