import { Router } from 'express';
import { IdSchema, type Schemas } from '../../../protocol/schemas.js';
import type { RoomService } from '../../../services/room-service.js';
import { parse, userOf } from '../validate.js';

/** Rooms: create, details (with participants online now), add a member. */
export function roomRoutes(deps: { rooms: RoomService; schemas: Schemas }): Router {
  const router = Router();
  router.post('/rooms', async (req, res) => {
    const input = parse(deps.schemas.createRoom, req.body);
    res.status(201).json(await deps.rooms.create(userOf(res), input));
  });
  router.get('/rooms/:id', async (req, res) => {
    const id = parse(IdSchema, req.params.id);
    res.json(await deps.rooms.details(userOf(res), id));
  });
  router.post('/rooms/:id/members', async (req, res) => {
    const id = parse(IdSchema, req.params.id);
    const { userId } = parse(deps.schemas.addMember, req.body);
    await deps.rooms.addMember(userOf(res), id, userId);
    res.status(204).end();
  });
  return router;
}
