import http from 'node:http';
import { Duplex } from 'node:stream';
import { ErrorCode } from '../errors';

/** Node's parser errors worth their own status; every other one is a 400. */
const STATUS_BY_CODE: Record<string, [number, string, string]> = {
  HPE_HEADER_OVERFLOW: [431, 'Request Header Fields Too Large', 'Request headers too large'],
  ERR_HTTP_REQUEST_TIMEOUT: [408, 'Request Timeout', 'Request not received in time'],
  HPE_URI_TOO_LONG: [414, 'URI Too Long', 'Request URL too long'],
};

/**
 * Answers the requests Node's HTTP parser rejects before any route sees them (headers over
 * `maxHeaderSize`, malformed request lines) in the API's JSON error shape, instead of Node's
 * bare status line: every byte a client controls ends in a coded 4xx.
 */
export function answerClientErrors(server: http.Server): void {
  server.on('clientError', (error: NodeJS.ErrnoException, socket: Duplex) => {
    if (error.code === 'ECONNRESET' || !socket.writable) {
      socket.destroy();
      return;
    }
    const [status, reason, message] = STATUS_BY_CODE[error.code ?? ''] ?? [400, 'Bad Request', 'Malformed HTTP request'];
    const body = JSON.stringify({
      errors: [{ message, extensions: { code: ErrorCode.BAD_USER_INPUT, validation: [{ field: 'request', message }] } }],
    });
    socket.end(
      `HTTP/1.1 ${status} ${reason}\r\ncontent-type: application/json; charset=utf-8\r\n` +
        `content-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`,
    );
  });
}
