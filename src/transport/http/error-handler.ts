import type { ErrorRequestHandler, RequestHandler } from 'express';
import { toErrorBody } from '../../domain/to-error-body.js';
import { httpStatusOf } from '../../protocol/error-codes.js';
import type { ErrorBody } from '../../protocol/error-codes.js';
import type { Logger } from '../../ports/logger.js';

/** Sends the error envelope of the contract: `{"error":{code, message, details?}}`. */
export function sendError(res: Parameters<RequestHandler>[1], body: ErrorBody): void {
  if (body.retryAfterMs !== undefined) res.setHeader('Retry-After', String(Math.ceil(body.retryAfterMs / 1000)));
  res.status(httpStatusOf[body.code]).json({ error: body });
}

export const notFoundHandler: RequestHandler = (req, res) => {
  sendError(res, { code: 'NOT_FOUND', message: `no route for ${req.method} ${req.path}` });
};

/** Last middleware: body-parser failures, AppErrors, zod errors and the unexpected. */
export function errorHandler(logger: Logger): ErrorRequestHandler {
  return (err, req, res, next) => {
    if (res.headersSent) return next(err);
    const type = (err as { type?: string }).type;
    if (type === 'entity.too.large') {
      return sendError(res, { code: 'PAYLOAD_TOO_LARGE', message: 'request body is larger than the limit' });
    }
    if (type === 'entity.parse.failed') {
      return sendError(res, { code: 'VALIDATION_FAILED', message: 'request body is not valid JSON' });
    }
    if (typeof type === 'string' && type.startsWith('encoding.') || type === 'charset.unsupported') {
      return sendError(res, { code: 'UNSUPPORTED_MEDIA_TYPE', message: 'unsupported body encoding' });
    }
    // Any other body that could not be read (a corrupt gzip stream, a length mismatch) is
    // the client's fault: a 4xx from the body parser, never an INTERNAL.
    const status = (err as { status?: unknown }).status;
    if (typeof status === 'number' && status >= 400 && status < 500) {
      return sendError(res, { code: 'VALIDATION_FAILED', message: 'request body could not be read' });
    }
    sendError(res, toErrorBody(err, logger, { method: req.method, path: req.path }));
  };
}
