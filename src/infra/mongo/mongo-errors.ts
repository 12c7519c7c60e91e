import mongoose from 'mongoose';

const DUPLICATE_KEY = 11000;

/**
 * Server error codes that mean "MongoDB cannot serve this now" rather than "this request is
 * wrong": network and shutdown states, elections, a write concern not met in time, a
 * timeout, and a refused login (the credentials are wrong for every call alike).
 */
const OUTAGE_CODES = new Set([
  6, // HostUnreachable
  7, // HostNotFound
  13, // Unauthorized (not logged in: the credentials were refused)
  18, // AuthenticationFailed
  50, // MaxTimeMSExpired
  64, // WriteConcernFailed (wtimeout)
  89, // NetworkTimeout
  91, // ShutdownInProgress
  189, // PrimarySteppedDown
  262, // ExceededTimeLimit
  10107, // NotWritablePrimary
  11600, // InterruptedAtShutdown
  11602, // InterruptedDueToReplStateChange
  13435, // NotPrimaryNoSecondaryOk
  13436, // NotPrimaryOrSecondary
]);

/** Socket errors the driver lets through as they are (e.g. a write to a connection the server closed). */
const SOCKET_CODES = new Set(['EPIPE', 'ECONNRESET', 'ECONNREFUSED', 'ECONNABORTED', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN']);

const OUTAGE_NAMES = /MongoNetwork|ServerSelection|NotConnected|TopologyClosed|PoolCleared|WaitQueueTimeout|MongoTimeout/;

/** True when a driver error is an outage: the caller should get UNAVAILABLE and retry. */
export function isMongoOutage(err: unknown): boolean {
  if (!(err instanceof Error)) return false;
  if (OUTAGE_NAMES.test(err.name)) return true;
  const e = err as Error & { code?: unknown; hasErrorLabel?: (label: string) => boolean; writeConcernError?: { code?: number } };
  if (typeof e.code === 'number' && OUTAGE_CODES.has(e.code)) return true;
  if (typeof e.code === 'string' && SOCKET_CODES.has(e.code)) return true;
  if (e.writeConcernError?.code !== undefined && OUTAGE_CODES.has(e.writeConcernError.code)) return true;
  if (e.hasErrorLabel?.('RetryableWriteError') || e.hasErrorLabel?.('ResetPool')) return true;
  // mongoose, with bufferCommands off, refuses a call made while the connection is down.
  return err instanceof mongoose.Error && /before initial connection|not connected/i.test(err.message);
}

/**
 * True when every failure in a write is a duplicate key. FerretDB names neither the index
 * nor the key in its E11000 errors, so callers read back what is stored to learn which one.
 */
export function isDuplicateKey(err: unknown): boolean {
  const e = err as { code?: unknown; writeErrors?: { code?: number; err?: { code?: number } }[] };
  if (e.writeErrors?.length) return e.writeErrors.every((w) => (w.code ?? w.err?.code) === DUPLICATE_KEY);
  return e.code === DUPLICATE_KEY;
}
