import { Router } from 'express';
import { IdSchema, type Schemas } from '../../../protocol/schemas.js';
import type { OperatorService } from '../../../services/operator-service.js';
import { parse } from '../validate.js';

/**
 * The operator API for rooms and users (mounted behind requireAdmin): who is online in a
 * room across the cluster, a system message to a room, and disconnecting (and revoking) a user.
 */
export function operatorRoutes(deps: { operator: OperatorService; schemas: Schemas }): Router {
  const router = Router();
  router.get('/rooms/:id/participants', async (req, res) => {
    const id = parse(IdSchema, req.params.id);
    res.json({ participants: await deps.operator.participants(id) });
  });
  router.post('/rooms/:id/messages', async (req, res) => {
    const id = parse(IdSchema, req.params.id);
    const { text } = parse(deps.schemas.adminMessage, req.body);
    res.status(201).json(await deps.operator.systemMessage(id, text));
  });
  router.post('/users/:userId/disconnect', async (req, res) => {
    const userId = parse(IdSchema, req.params.userId);
    const { revoke } = parse(deps.schemas.adminDisconnect, req.body);
    res.json({ disconnected: await deps.operator.disconnect(userId, revoke ?? false) });
  });
  return router;
}
