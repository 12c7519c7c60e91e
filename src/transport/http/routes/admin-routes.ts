import { timingSafeEqual } from 'node:crypto';
import { Router, type RequestHandler } from 'express';
import { AppError } from '../../../domain/app-error.js';
import type { DeadLetterQueue } from '../../../ports/dead-letters.js';
import type { WebhookDeadLetters } from '../../../ports/webhook-outbox.js';
import { DeadLetterListQuerySchema } from '../../../protocol/query-schemas.js';
import type { Schemas } from '../../../protocol/schemas.js';
import type { OperatorService } from '../../../services/operator-service.js';
import { operatorRoutes } from './operator-routes.js';
import { parse } from '../validate.js';
import { webhookDeadLetterRoutes } from './webhook-admin-routes.js';

/** `Authorization: Bearer <ADMIN_TOKEN>`: 401 without a token, 403 with another one. */
function requireAdmin(adminToken: string | null): RequestHandler {
  const expected = adminToken ? Buffer.from(adminToken) : null;
  return (req, _res, next) => {
    const match = /^Bearer ([^\s]+)$/i.exec(req.headers.authorization ?? '');
    if (!match) throw new AppError('UNAUTHORIZED', 'Authorization: Bearer <ADMIN_TOKEN> is required');
    if (!expected) throw new AppError('FORBIDDEN', 'the admin API is disabled: set ADMIN_TOKEN to enable it');
    const given = Buffer.from(match[1]!);
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
      throw new AppError('FORBIDDEN', 'this token does not grant admin access');
    }
    next();
  };
}

const notFound = (id: string) => new AppError('DEAD_LETTER_NOT_FOUND', `dead letter ${JSON.stringify(id.slice(0, 64))} does not exist`);

/** The operator API: dead letters (the chat queue's and the webhooks'), rooms and users (operator-routes.ts). */
export function adminRoutes(deps: { deadLetters: DeadLetterQueue; webhookDeadLetters: WebhookDeadLetters; adminToken: string | null; operator: OperatorService; schemas: Schemas }): Router {
  const router = Router();
  router.use(requireAdmin(deps.adminToken));
  router.use('/webhooks', webhookDeadLetterRoutes(deps.webhookDeadLetters));
  router.use(operatorRoutes(deps));
  router.get('/dead-letters', async (req, res) => {
    const { limit } = parse(DeadLetterListQuerySchema, req.query);
    res.json({ deadLetters: await deps.deadLetters.list(limit ?? 100) });
  });
  router.post('/dead-letters/:id/retry', async (req, res) => {
    if (!(await deps.deadLetters.retry(req.params.id))) throw notFound(req.params.id);
    res.status(202).json({ status: 'requeued', id: req.params.id });
  });
  router.delete('/dead-letters/:id', async (req, res) => {
    if (!(await deps.deadLetters.drop(req.params.id))) throw notFound(req.params.id);
    res.status(204).end();
  });
  return router;
}
