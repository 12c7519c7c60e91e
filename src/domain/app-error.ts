import type { ErrorBody, ErrorCode } from '../protocol/error-codes.js';

/** Marks AppErrors even across duplicate module instances (a lazily imported module). */
const BRAND = Symbol.for('video-chat-server.AppError');

/** An error whose code and message are safe to show to the client as they are. */
export class AppError extends Error {
  readonly [BRAND] = true;
  /** Set on an UNAVAILABLE that is this request's alone, not its dependency's outage (see `unconfirmed`). */
  notAnOutage = false;

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
/**
 * A dependency (store, Redis) cannot serve right now: the caller may retry. `cause` is the
 * driver's error, kept for the one place that logs it (the dependency's Breaker).
 */
export const unavailable = (message: string, cause?: unknown): AppError => {
  const error = new AppError('UNAVAILABLE', message);
  if (cause !== undefined) error.cause = cause;
  return error;
};

/**
 * UNAVAILABLE for one request's guarantee while the dependency itself answers: Redis took the
 * message, but the replicas REDIS_MIN_REPLICAS_ACK asks for did not confirm it in time. The
 * client retries as for an outage; the dependency's breaker does not count it (isOutage), so
 * what needs no replica (presence, signaling, history) goes on.
 */
export const unconfirmed = (message: string): AppError => {
  const error = unavailable(message);
  error.notAnOutage = true;
  return error;
};

/**
 * The one answer to "is this an outage?": an UNAVAILABLE AppError, which every dependency
 * port raises for a failure of the dependency itself (not of the request). Waiting it out
 * and retrying is right; counting it against an entry or a request is not.
 */
export const isUnavailable = (err: unknown): boolean => err instanceof AppError && err.code === 'UNAVAILABLE';

/**
 * A pre-sequenced message whose (room, seq) or (room, clientMsgId) is held by another
 * message: the sequence source lost data. Deterministic, so the queue dead-letters it.
 */
export const seqConflict = (m: { id: string; roomId: string; seq: number }) =>
  new AppError('CONFLICT', `seq ${m.seq} of room ${m.roomId} is already taken by another message (message ${m.id} not stored)`);

/** An UNAVAILABLE of the dependency itself: what a breaker counts toward opening. */
export const isOutage = (err: unknown): boolean => isUnavailable(err) && !(err as AppError).notAnOutage;
