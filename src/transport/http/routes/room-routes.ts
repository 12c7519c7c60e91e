import { Router } from 'express';
import { PageQuerySchema, RemoveMemberQuerySchema } from '../../../protocol/query-schemas.js';
import { IdSchema, type Schemas } from '../../../protocol/schemas.js';
import type { RoomService } from '../../../services/room-service.js';
import type { ServerMetrics } from '../../../ports/metrics.js';
import { parse, userOf } from '../validate.js';

/** Page size when the client gives none. */
const DEFAULT_PAGE = 50;

/** Rooms: create, list mine, details, settings, delete; members and their roles. */
export function roomRoutes(deps: { rooms: RoomService; schemas: Schemas; metrics: Pick<ServerMetrics, 'moderationAction'> }): Router {
  const router = Router();
  const { rooms, schemas, metrics } = deps;
  router.post('/rooms', async (req, res) => {
    const input = parse(schemas.createRoom, req.body);
    res.status(201).json(await rooms.create(userOf(res), input));
  });
  router.get('/rooms', async (req, res) => {
    const { limit, cursor } = parse(PageQuerySchema, req.query);
    const page = await rooms.listMine(userOf(res), limit ?? DEFAULT_PAGE, cursor);
    res.json({ rooms: page.items, nextCursor: page.nextCursor });
  });
  router.get('/rooms/:id', async (req, res) => {
    const id = parse(IdSchema, req.params.id);
    res.json(await rooms.details(userOf(res), id));
  });
  router.patch('/rooms/:id', async (req, res) => {
    const id = parse(IdSchema, req.params.id);
    const patch = parse(schemas.updateRoom, req.body);
    res.json(await rooms.update(userOf(res), id, patch));
    metrics.moderationAction('update');
  });
  router.delete('/rooms/:id', async (req, res) => {
    const id = parse(IdSchema, req.params.id);
    await rooms.delete(userOf(res), id);
    metrics.moderationAction('delete');
    res.status(204).end();
  });
  router.get('/rooms/:id/members', async (req, res) => {
    const id = parse(IdSchema, req.params.id);
    const { limit, cursor } = parse(PageQuerySchema, req.query);
    const page = await rooms.members(userOf(res), id, limit ?? DEFAULT_PAGE, cursor);
    res.json({ members: page.items, nextCursor: page.nextCursor });
  });
  router.post('/rooms/:id/members', async (req, res) => {
    const id = parse(IdSchema, req.params.id);
    const { userId } = parse(schemas.addMember, req.body);
    await rooms.addMember(userOf(res), id, userId);
    res.status(204).end();
  });
  router.put('/rooms/:id/members/:userId', async (req, res) => {
    const id = parse(IdSchema, req.params.id);
    const userId = parse(IdSchema, req.params.userId);
    const { role } = parse(schemas.setRole, req.body);
    res.json(await rooms.setRole(userOf(res), id, userId, role));
    metrics.moderationAction('role');
  });
  router.delete('/rooms/:id/members/:userId', async (req, res) => {
    const id = parse(IdSchema, req.params.id);
    const userId = parse(IdSchema, req.params.userId);
    const { ban } = parse(RemoveMemberQuerySchema, req.query);
    await rooms.removeMember(userOf(res), id, userId, ban ?? false);
    metrics.moderationAction(ban ? 'ban' : 'remove');
    res.status(204).end();
  });
  return router;
}
