import { ZodError } from 'zod';
import type { ErrorBody } from '../protocol/error-codes.js';
import type { Logger } from '../ports/logger.js';
import { AppError } from './app-error.js';

/**
 * Maps any thrown value to the body a client may see. AppErrors pass through; a ZodError
 * becomes VALIDATION_FAILED with a field summary; anything else is INTERNAL, logged with its
 * stack and never echoed.
 */
export function toErrorBody(err: unknown, logger: Logger, context: Record<string, unknown>): ErrorBody {
  if (err instanceof AppError) {
    if (err.code === 'UNAVAILABLE' || err.code === 'INTERNAL') logger.warn(err.message, { ...context, code: err.code });
    return err.toBody();
  }
  if (err instanceof ZodError) return validationBody(err);
  logger.error('unhandled error', { ...context, err });
  return { code: 'INTERNAL', message: 'internal error' };
}

/** `{field: message}` pairs; values the client sent are never echoed back. */
export function validationBody(err: ZodError): ErrorBody {
  const fields = err.issues.slice(0, 20).map((issue) => ({
    path: issue.path.map(String).join('.') || '(root)',
    message: issue.message,
  }));
  const first = fields[0];
  const message = first ? `${first.path}: ${first.message}` : 'invalid payload';
  return { code: 'VALIDATION_FAILED', message, details: fields };
}
