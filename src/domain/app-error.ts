import type { ErrorBody, ErrorCode } from '../protocol/error-codes.js';

/** Marks AppErrors even across duplicate module instances (a lazily imported module). */
const BRAND = Symbol.for('video-chat-server.AppError');

/** An error whose code and message are safe to show to the client as they are. */
export class AppError extends Error {
  readonly [BRAND] = true;

  static override [Symbol.hasInstance](value: unknown): boolean {
    return typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[BRAND] === true;
  }

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

/**
 * A pre-sequenced message whose (room, seq) or (room, clientMsgId) is held by another
 * message: the sequence source lost data. Deterministic, so the queue dead-letters it.
 */
export const seqConflict = (m: { id: string; roomId: string; seq: number }) =>
  new AppError('CONFLICT', `seq ${m.seq} of room ${m.roomId} is already taken by another message (message ${m.id} not stored)`);
