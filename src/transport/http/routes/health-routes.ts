import { Router } from 'express';
import type { ServerMetrics } from '../../../ports/metrics.js';
import type { Readiness } from '../../../services/readiness.js';

/** Liveness, readiness and Prometheus metrics: never rate-limited, never authenticated. */
export function healthRoutes(deps: { readiness: Readiness; metrics: ServerMetrics; nodeId: string }): Router {
  const router = Router();
  router.get('/healthz', (_req, res) => {
    res.json({ status: 'ok', nodeId: deps.nodeId });
  });
  router.get('/readyz', async (_req, res) => {
    const report = await deps.readiness.report();
    res.status(report.status === 'unavailable' ? 503 : 200).json({ ...report, nodeId: deps.nodeId });
  });
  router.get('/metrics', async (_req, res) => {
    const { contentType, body } = await deps.metrics.render();
    res.setHeader('Content-Type', contentType);
    res.send(body);
  });
  return router;
}
