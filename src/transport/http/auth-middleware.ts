import type { RequestHandler } from 'express';
import { AppError } from '../../domain/app-error.js';
import type { TokenService } from '../../services/token-service.js';

/** Requires `Authorization: Bearer <jwt>` and puts the user in `res.locals.user`. */
export function requireUser(tokens: TokenService): RequestHandler {
  return async (req, res, next) => {
    const header = req.headers.authorization;
    const match = header ? /^Bearer ([^\s]+)$/i.exec(header) : null;
    if (!match) throw new AppError('UNAUTHORIZED', 'Authorization: Bearer <token> is required');
    const verified = await tokens.verify(match[1]);
    res.locals.user = verified.user;
    next();
  };
}
