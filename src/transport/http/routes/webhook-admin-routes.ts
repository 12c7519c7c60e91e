import { Router } from 'express';
import { AppError } from '../../../domain/app-error.js';
import type { WebhookDeadLetters } from '../../../ports/webhook-outbox.js';
import { DeadLetterListQuerySchema } from '../../../protocol/query-schemas.js';
import { parse } from '../validate.js';

const notFound = (id: string) => new AppError('WEBHOOK_DEAD_LETTER_NOT_FOUND', `webhook dead letter ${JSON.stringify(id.slice(0, 64))} does not exist`);

/**
 * Webhook deliveries that used up WEBHOOK_MAX_ATTEMPTS: list, retry (due again at once, a
 * fresh attempt budget), delete. Mounted by adminRoutes, behind its admin check.
 */
export function webhookDeadLetterRoutes(deadLetters: WebhookDeadLetters): Router {
  const router = Router();
  router.get('/dead-letters', async (req, res) => {
    const { limit } = parse(DeadLetterListQuerySchema, req.query);
    res.json({ deadLetters: await deadLetters.list(limit ?? 100) });
  });
  router.post('/dead-letters/:id/retry', async (req, res) => {
    if (!(await deadLetters.retry(req.params.id))) throw notFound(req.params.id);
    res.status(202).json({ status: 'requeued', id: req.params.id });
  });
  router.delete('/dead-letters/:id', async (req, res) => {
    if (!(await deadLetters.drop(req.params.id))) throw notFound(req.params.id);
    res.status(204).end();
  });
  return router;
}
