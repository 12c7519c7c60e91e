import type { Response } from 'express';
import type { z } from 'zod';
import type { AuthUser } from '../../services/token-service.js';

/** Parses request input with a zod schema; a thrown ZodError becomes 400 VALIDATION_FAILED. */
export function parse<S extends z.ZodType>(schema: S, input: unknown): z.infer<S> {
  return schema.parse(input ?? {});
}

/** The authenticated user that `requireUser` attached. */
export function userOf(res: Response): AuthUser {
  const user = res.locals.user as AuthUser | undefined;
  if (!user) throw new Error('requireUser middleware missing on this route');
  return user;
}
