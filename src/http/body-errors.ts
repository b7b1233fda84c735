import { isUtf8 } from 'node:buffer';
import { ErrorRequestHandler, RequestHandler } from 'express';
import { ErrorCode } from '../errors';
import { isClientGone } from './client-errors';

/**
 * The JSON parser's `verify`: a body that is not valid UTF-8 is refused before it is decoded
 * (decoding would replace each bad sequence with U+FFFD and store text the client never sent).
 */
export function refuseInvalidUtf8(_req: unknown, _res: unknown, body: Buffer): void {
  if (!isUtf8(body)) throw Object.assign(new Error('invalid UTF-8'), { status: 400, type: 'entity.encoding.invalid' });
}

/**
 * Body parser failures (too large, not JSON) answer in the API's error shape, never an HTML page or a 500.
 * A body the client stopped sending because it left (an aborted or reset request, whatever
 * its encoding) is no error: nobody reads an answer, and `clientDepartures` logs it once.
 */
export const bodyErrors: ErrorRequestHandler = (error, req, res, next) => {
  if (isClientGone(error) || (!req.complete && (req.destroyed || req.socket.destroyed))) {
    res.destroy();
    return;
  }
  const type = (error as { type?: string }).type;
  const status = (error as { status?: number }).status;
  // body-parser marks its client errors with a 4xx status; some (a truncated gzip stream) carry no type.
  if (!status || status < 400 || status >= 500) return next(error);
  const message =
    type === 'entity.too.large'
      ? 'Request body too large'
      : type === 'entity.parse.failed'
        ? 'Request body is not valid JSON'
        : type === 'entity.encoding.invalid'
          ? 'Request body is not valid UTF-8'
          : type === 'encoding.unsupported'
          ? 'Request body has a content-encoding the server cannot decode (send identity, gzip, deflate or br)'
          : 'Request body could not be read (check its content-encoding and length)';
  res.status(status).json({
    errors: [{ message, extensions: { code: ErrorCode.BAD_USER_INPUT, validation: [{ field: 'body', message }] } }],
  });
};

/** A route the server does not have: 404 in the API's JSON error shape (never an HTML page). */
export const notFoundRoute: RequestHandler = (req, res) => {
  const message = `No route for ${req.method} ${req.path.length > 200 ? `${req.path.slice(0, 200)}…` : req.path}: the API is POST /graphql`;
  res.status(404).json({ errors: [{ message, extensions: { code: ErrorCode.NOT_FOUND } }] });
};
