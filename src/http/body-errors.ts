import { ErrorRequestHandler } from 'express';
import { ErrorCode } from '../errors';

/** Body parser failures (too large, not JSON) answer in the API's error shape, never an HTML page or a 500. */
export const bodyErrors: ErrorRequestHandler = (error, _req, res, next) => {
  const type = (error as { type?: string }).type;
  const status = (error as { status?: number }).status;
  // body-parser marks its client errors with a 4xx status; some (a truncated gzip stream) carry no type.
  if (!status || status < 400 || status >= 500) return next(error);
  const message =
    type === 'entity.too.large'
      ? 'Request body too large'
      : type === 'entity.parse.failed'
        ? 'Request body is not valid JSON'
        : type === 'encoding.unsupported'
          ? 'Request body has a content-encoding the server cannot decode (send identity, gzip, deflate or br)'
          : 'Request body could not be read (check its content-encoding and length)';
  res.status(status).json({
    errors: [{ message, extensions: { code: ErrorCode.BAD_USER_INPUT, validation: [{ field: 'body', message }] } }],
  });
};
