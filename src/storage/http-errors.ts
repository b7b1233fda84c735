import express from 'express';

/** The coded JSON error every audio HTTP route answers with: `{ "error": { "code", "message" } }`. */
export function sendStorageError(res: express.Response, status: number, code: string, message: string): void {
  if (res.headersSent) return;
  res.status(status).json({ error: { code, message } });
}
