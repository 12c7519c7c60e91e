import { Router } from 'express';
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
  router.get('/messages', async (req, res) => {
    const q = parse(HistoryQuerySchema, req.query);
    await deps.rooms.requireAccess(userOf(res), q.roomId);
    res.json(await deps.chat.history(q.roomId, q));
  });
  return router;
}
