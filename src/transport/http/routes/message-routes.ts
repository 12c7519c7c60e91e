import { Router, type Response } from 'express';
import { z } from 'zod';
import type { ChangeOp } from '../../../domain/message-change.js';
import { EmojiSchema, IdSchema } from '../../../protocol/schemas.js';
import { HistoryQuerySchema, SearchQuerySchema } from '../../../protocol/query-schemas.js';
import type { Schemas } from '../../../protocol/schemas.js';
import type { ChatService } from '../../../services/chat-service.js';
import type { RoomService } from '../../../services/room-service.js';
import { parse, userOf } from '../validate.js';

/** `POST /api/messages` (201, or 200 for a repeated clientMsgId), seq-cursor history and search. */
export function messageRoutes(deps: { chat: ChatService; rooms: RoomService; schemas: Schemas }): Router {
  const router = Router();
  // Before any `/messages/:id` route, which would take "search" for an id.
  router.get('/messages/search', async (req, res) => {
    const q = parse(SearchQuerySchema, req.query);
    await deps.rooms.requireAccess(userOf(res), q.roomId);
    res.json(await deps.chat.search(q.roomId, q.q, q.limit));
  });
  router.post('/messages', async (req, res) => {
    const input = parse(deps.schemas.postMessage, req.body);
    const user = userOf(res);
    await deps.rooms.requireAccess(user, input.roomId);
    const { message, created } = await deps.chat.send(user, input);
    res.status(created ? 201 : 200).json(message);
  });
  // Edits, deletes and reactions by message id: the room is the message's own.
  const changeById = async (res: Response, id: string, op: ChangeOp) => {
    const user = userOf(res);
    const message = await deps.chat.byId(id);
    await deps.rooms.requireAccess(user, message.roomId);
    res.json(await deps.chat.change(user, message.roomId, message.seq, op));
  };
  const idParam = z.strictObject({ id: IdSchema });
  const reactionParams = z.strictObject({ id: IdSchema, emoji: EmojiSchema });
  router.patch('/messages/:id', async (req, res) => {
    const { id } = parse(idParam, req.params);
    const { text } = parse(deps.schemas.editMessage, req.body);
    await changeById(res, id, { kind: 'edit', text });
  });
  router.delete('/messages/:id', async (req, res) => {
    const { id } = parse(idParam, req.params);
    await changeById(res, id, { kind: 'delete' });
  });
  router.put('/messages/:id/reactions/:emoji', async (req, res) => {
    const { id, emoji } = parse(reactionParams, req.params);
    await changeById(res, id, { kind: 'react', emoji, on: true });
  });
  router.delete('/messages/:id/reactions/:emoji', async (req, res) => {
    const { id, emoji } = parse(reactionParams, req.params);
    await changeById(res, id, { kind: 'react', emoji, on: false });
  });
  router.get('/messages', async (req, res) => {
    const q = parse(HistoryQuerySchema, req.query);
    await deps.rooms.requireAccess(userOf(res), q.roomId);
    res.json(await deps.chat.history(q.roomId, q));
  });
  return router;
}
