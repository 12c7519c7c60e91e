/**
 * Stable error codes shared by the server and its clients. Clients switch on these
 * strings; they never change meaning once published.
 */
export const ErrorCode = {
  VALIDATION_FAILED: 'VALIDATION_FAILED',
  UNAUTHORIZED: 'UNAUTHORIZED',
  FORBIDDEN: 'FORBIDDEN',
  NOT_FOUND: 'NOT_FOUND',
  ROOM_NOT_FOUND: 'ROOM_NOT_FOUND',
  MESSAGE_NOT_FOUND: 'MESSAGE_NOT_FOUND',
  DEAD_LETTER_NOT_FOUND: 'DEAD_LETTER_NOT_FOUND',
  WEBHOOK_DEAD_LETTER_NOT_FOUND: 'WEBHOOK_DEAD_LETTER_NOT_FOUND',
  ROOM_FULL: 'ROOM_FULL',
  ROOM_LOCKED: 'ROOM_LOCKED',
  NOT_IN_ROOM: 'NOT_IN_ROOM',
  PEER_NOT_FOUND: 'PEER_NOT_FOUND',
  CONFLICT: 'CONFLICT',
  RATE_LIMITED: 'RATE_LIMITED',
  TOO_MANY_CONNECTIONS: 'TOO_MANY_CONNECTIONS',
  PAYLOAD_TOO_LARGE: 'PAYLOAD_TOO_LARGE',
  UNSUPPORTED_MEDIA_TYPE: 'UNSUPPORTED_MEDIA_TYPE',
  UNAVAILABLE: 'UNAVAILABLE',
  INTERNAL: 'INTERNAL',
} as const;

export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

/** HTTP status for each code, used by the REST error middleware. */
export const httpStatusOf: Record<ErrorCode, number> = {
  VALIDATION_FAILED: 400,
  UNAUTHORIZED: 401,
  FORBIDDEN: 403,
  NOT_FOUND: 404,
  ROOM_NOT_FOUND: 404,
  MESSAGE_NOT_FOUND: 404,
  DEAD_LETTER_NOT_FOUND: 404,
  WEBHOOK_DEAD_LETTER_NOT_FOUND: 404,
  ROOM_FULL: 409,
  ROOM_LOCKED: 409,
  NOT_IN_ROOM: 409,
  PEER_NOT_FOUND: 404,
  CONFLICT: 409,
  RATE_LIMITED: 429,
  TOO_MANY_CONNECTIONS: 429,
  PAYLOAD_TOO_LARGE: 413,
  UNSUPPORTED_MEDIA_TYPE: 415,
  UNAVAILABLE: 503,
  INTERNAL: 500,
};

/** The error body every failed ack and every failed REST call carries (schema: answers.ts). */
export interface ErrorBody {
  code: ErrorCode;
  message: string;
  details?: unknown;
  /** Present with RATE_LIMITED: how long to wait before trying again. */
  retryAfterMs?: number;
}
