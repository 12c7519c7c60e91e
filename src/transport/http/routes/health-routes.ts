import { Router } from 'express';
import type { Metrics } from '../../../infra/metrics.js';
import type { Readiness } from '../../../services/readiness.js';

/** Liveness, readiness and Prometheus metrics: never rate-limited, never authenticated. */
export function healthRoutes(deps: { readiness: Readiness; metrics: Metrics; nodeId: string }): Router {
  const router = Router();
  router.get('/healthz', (_req, res) => {
    res.json({ status: 'ok', nodeId: deps.nodeId });
  });
  router.get('/readyz', async (_req, res) => {
    const report = await deps.readiness.report();
    res.status(report.status === 'unavailable' ? 503 : 200).json({ ...report, nodeId: deps.nodeId });
  });
  router.get('/metrics', async (_req, res) => {
    res.setHeader('Content-Type', deps.metrics.registry.contentType);
    res.send(await deps.metrics.registry.metrics());
  });
  return router;
}
