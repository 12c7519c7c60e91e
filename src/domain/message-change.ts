import { AppError } from './app-error.js';
import type { Message, Reaction } from '../protocol/models.js';

/** Distinct emoji one message may carry. */
export const MAX_REACTIONS_PER_MESSAGE = 20;

export type ChangeOp = { kind: 'edit'; text: string } | { kind: 'delete' } | { kind: 'react'; emoji: string; on: boolean };

/** A change to an existing message, as the service asks a store for it. */
export interface ChangeRequest {
  roomId: string;
  seq: number;
  op: ChangeOp;
  /** Who asks; `moderator` is true for the room's owner and moderators. */
  actor: { id: string; moderator: boolean };
  /** When (ISO-8601), for editedAt and deletedAt. */
  at: string;
}

export interface ChangeResult {
  /** The message as it is now. */
  message: Message;
  /** False when the change was already made (a retry): nothing was written, `rev` did not move. */
  changed: boolean;
}

export const messageNotFound = (roomId: string, seq: number) => new AppError('MESSAGE_NOT_FOUND', `room ${JSON.stringify(roomId)} has no message ${seq}`);

/**
 * The message after `op`, or null when `op` changes nothing (natural idempotency: the same
 * text again, a reaction already there or already gone, a delete of a deleted message), so a
 * retried change never moves the room's rev twice. The rule of who may do what lives here,
 * for every store. The caller stamps the new `rev`.
 */
export function changedMessage(current: Message, req: ChangeRequest): Message | null {
  const { op, actor } = req;
  switch (op.kind) {
    case 'edit': {
      if (current.senderId !== actor.id) throw new AppError('FORBIDDEN', 'only the author can edit a message');
      if (current.deletedAt !== undefined) throw new AppError('CONFLICT', 'the message is deleted');
      if (current.text === op.text) return null;
      return { ...current, text: op.text, editedAt: req.at };
    }
    case 'delete': {
      if (current.senderId !== actor.id && !actor.moderator) throw new AppError('FORBIDDEN', 'only the author, a moderator or the owner can delete a message');
      if (current.deletedAt !== undefined) return null;
      const { reactions: _gone, ...rest } = current;
      return { ...rest, text: '', deletedAt: req.at };
    }
    case 'react': {
      if (current.deletedAt !== undefined) throw new AppError('CONFLICT', 'the message is deleted');
      const reactions = current.reactions ?? [];
      const found = reactions.find((r) => r.emoji === op.emoji);
      const has = found?.userIds.includes(actor.id) === true;
      if (has === op.on) return null;
      let next: Reaction[];
      if (op.on) {
        if (!found && reactions.length >= MAX_REACTIONS_PER_MESSAGE) {
          throw new AppError('CONFLICT', `a message carries at most ${MAX_REACTIONS_PER_MESSAGE} different reactions`);
        }
        next = found
          ? reactions.map((r) => (r === found ? { emoji: r.emoji, count: r.count + 1, userIds: [...r.userIds, actor.id] } : r))
          : [...reactions, { emoji: op.emoji, count: 1, userIds: [actor.id] }];
      } else {
        next = reactions.flatMap((r) => {
          if (r !== found) return [r];
          const userIds = r.userIds.filter((u) => u !== actor.id);
          return userIds.length ? [{ emoji: r.emoji, count: userIds.length, userIds }] : [];
        });
      }
      const { reactions: _old, ...rest } = current;
      return next.length ? { ...rest, reactions: next } : rest;
    }
  }
}

/** The fields a change writes, as stored (null where absent). */
export interface ChangedFields {
  text: string;
  editedAt: string | null;
  deletedAt: string | null;
  reactions: Reaction[] | null;
  rev: number;
}

export const changedFields = (m: Message): ChangedFields => ({
  text: m.text,
  editedAt: m.editedAt ?? null,
  deletedAt: m.deletedAt ?? null,
  reactions: m.reactions?.length ? m.reactions : null,
  rev: m.rev ?? 0,
});

/** Adds the optional fields of a stored row to a message, leaving out the ones without a value. */
export function withChangeFields(
  m: Message,
  f: { replyTo?: number | null | undefined; editedAt?: string | null | undefined; deletedAt?: string | null | undefined; reactions?: Reaction[] | null | undefined; rev?: number | null | undefined },
): Message {
  if (f.replyTo != null) m.replyTo = f.replyTo;
  if (f.editedAt != null) m.editedAt = f.editedAt;
  if (f.deletedAt != null) m.deletedAt = f.deletedAt;
  if (f.reactions != null && f.reactions.length > 0) m.reactions = f.reactions;
  if (f.rev != null && f.rev > 0) m.rev = f.rev;
  return m;
}
