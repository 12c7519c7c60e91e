import { Router } from 'express';
import { z } from 'zod';
import { IdSchema, type Schemas } from '../../../protocol/schemas.js';
import type { ChatService } from '../../../services/chat-service.js';
import type { RoomService } from '../../../services/room-service.js';
import { parse, userOf } from '../validate.js';

/** Query numbers are digits only: "1e9", "-1", "0x10" or "" are refused, not coerced. */
const queryInt = (max: number) =>
  z
    .string()
    .regex(/^\d{1,16}$/, 'expected a whole number')
    .transform(Number)
    .pipe(z.number().int().min(0).max(max));

const HistoryQuerySchema = z.strictObject({
  roomId: IdSchema,
  after: queryInt(Number.MAX_SAFE_INTEGER).optional(),
  before: queryInt(Number.MAX_SAFE_INTEGER).optional(),
  limit: queryInt(100).pipe(z.number().min(1, 'expected at least 1')).optional(),
});

/** `POST /api/messages` (201, or 200 for a repeated clientMsgId) and seq-cursor history. */
export function messageRoutes(deps: { chat: ChatService; rooms: RoomService; schemas: Schemas }): Router {
  const router = Router();
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
