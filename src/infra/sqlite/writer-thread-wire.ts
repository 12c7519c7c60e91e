import { AppError } from '../../domain/app-error.js';
import type { ErrorCode } from '../../protocol/error-codes.js';
import type { ChangeRequest, ChangeResult } from '../../domain/message-change.js';
import type { Message } from '../../protocol/models.js';
import type { NewMessage, ReadMarker } from '../../ports/store.js';
import type { RoomWrite } from './room-writes.js';

/**
 * What the request thread (writer-thread-client.ts) and the SQLite writer thread
 * (writer-thread-main.ts) post to each other: one request, one reply. Everything here is
 * plain data. Errors cross the thread boundary as data and are rebuilt on arrival, so that
 * an AppError is still an AppError (with its code and details) and a SqliteError keeps its
 * code and message.
 */
export type WriteOp =
  | { op: 'append'; items: NewMessage[] }
  | { op: 'insertAssigned'; messages: Message[] }
  | { op: 'room'; write: RoomWrite }
  | { op: 'setCursor'; roomId: string; userId: string; seq: number }
  | { op: 'readMarkers'; markers: ReadMarker[] }
  | { op: 'change'; request: ChangeRequest }
  | { op: 'applyAssigned'; message: Message }
  /** Indexes the next chunk of the room's messages up to `upTo` (a search is about to read the index). */
  | { op: 'indexSearch'; roomId: string; upTo: number }
  /** Last request: the thread closes its connection and answers; it is then terminated. */
  | { op: 'close' };

export type WriteRequest = WriteOp & { id: number };

export type WireError =
  | { app: true; code: ErrorCode; message: string; details?: unknown; retryAfterMs?: number }
  | { app: false; name: string; message: string; code?: string };

/**
 * What one appended message came to on the writer thread, sent back as it is: its new seq,
 * the message already stored under its clientMsgId, or why it was not stored.
 */
export type AppendOutcome = { ok: true; seq: number } | { ok: true; existing: Message } | { ok: false; error: WireError };

/**
 * An append is answered with one outcome per item, in order; a room write with whether it
 * changed anything; read markers with whether each moved; a change with its result.
 */
export type WriteReply =
  | {
      id: number;
      ok: true;
      outcomes?: AppendOutcome[];
      changed?: boolean;
      dropped?: number;
      moved?: boolean[];
      change?: ChangeResult;
      applied?: 'applied' | 'stale' | 'missing' | 'dropped';
      /** indexSearch: more of the room may wait for the index. */
      more?: boolean;
    }
  | { id: number; ok: false; error: WireError };

export function toWire(error: unknown): WireError {
  if (error instanceof AppError) {
    const wire: WireError = { app: true, code: error.code, message: error.message };
    if (error.details !== undefined) wire.details = error.details;
    if (error.retryAfterMs !== undefined) wire.retryAfterMs = error.retryAfterMs;
    return wire;
  }
  const e = error instanceof Error ? error : new Error(String(error));
  const code = (e as { code?: unknown }).code;
  return typeof code === 'string' ? { app: false, name: e.name, message: e.message, code } : { app: false, name: e.name, message: e.message };
}

export function fromWire(wire: WireError): Error {
  if (wire.app) return new AppError(wire.code, wire.message, wire.details, wire.retryAfterMs);
  const error = new Error(wire.message) as Error & { code?: string };
  error.name = wire.name;
  if (wire.code !== undefined) error.code = wire.code;
  return error;
}
