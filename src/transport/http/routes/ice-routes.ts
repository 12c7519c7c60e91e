import { Router } from 'express';
import type { IceService } from '../../../services/ice-service.js';
import { userOf } from '../validate.js';

/** `GET /api/ice-servers` → {iceServers, expiresAt}, fresh TURN credentials each call. */
export function iceRoutes(deps: { ice: IceService }): Router {
  const router = Router();
  router.get('/ice-servers', (_req, res) => {
    res.setHeader('Cache-Control', 'no-store');
    res.json(deps.ice.forUser(userOf(res).id));
  });
  return router;
}
