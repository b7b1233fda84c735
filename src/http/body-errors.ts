import { ErrorRequestHandler } from 'express';
import { ErrorCode } from '../errors';

/** Body parser failures (too large, not JSON) answer in the API's error shape, never an HTML page or a 500. */
export const bodyErrors: ErrorRequestHandler = (error, _req, res, next) => {
  const type = (error as { type?: string }).type;
  const status = (error as { status?: number }).status;
  if (!type || !status || status >= 500) return next(error);
  const message =
    type === 'entity.too.large'
      ? 'Request body too large'
      : type === 'entity.parse.failed'
        ? 'Request body is not valid JSON'
        : 'Request body could not be read';
  res.status(status).json({
    errors: [{ message, extensions: { code: ErrorCode.BAD_USER_INPUT, validation: [{ field: 'body', message }] } }],
  });
};
