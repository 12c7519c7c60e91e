import type { ErrorBody, ErrorCode } from '../protocol/error-codes.js';

/** An error whose code and message are safe to show to the client as they are. */
export class AppError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly details?: unknown,
    readonly retryAfterMs?: number,
  ) {
    super(message);
    this.name = 'AppError';
  }

  toBody(): ErrorBody {
    const body: ErrorBody = { code: this.code, message: this.message };
    if (this.details !== undefined) body.details = this.details;
    if (this.retryAfterMs !== undefined) body.retryAfterMs = this.retryAfterMs;
    return body;
  }
}

export const roomNotFound = (roomId: string) => new AppError('ROOM_NOT_FOUND', `room ${JSON.stringify(roomId)} does not exist`);
export const forbidden = (message: string) => new AppError('FORBIDDEN', message);
export const unavailable = (message: string) => new AppError('UNAVAILABLE', message);
