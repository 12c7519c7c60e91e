import { Router } from 'express';
import { AppError } from '../../../domain/app-error.js';
import type { Schemas } from '../../../protocol/schemas.js';
import type { TokenService } from '../../../services/token-service.js';
import { parse } from '../validate.js';

/** `POST /api/auth/guest {name}` → 201 {token, user}. */
export function authRoutes(deps: { tokens: TokenService; schemas: Schemas; allowGuests: boolean }): Router {
  const router = Router();
  router.post('/auth/guest', async (req, res) => {
    if (!deps.allowGuests) throw new AppError('FORBIDDEN', 'guest access is disabled on this server');
    const { name } = parse(deps.schemas.guestAuth, req.body);
    const { token, user } = await deps.tokens.issueGuest(name);
    res.status(201).json({ token, user: { id: user.id, name: user.name } });
  });
  return router;
}
