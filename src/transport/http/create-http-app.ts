import compression from 'compression';
import cors from 'cors';
import express, { type RequestHandler } from 'express';
import helmet from 'helmet';
import type { AppConfig } from '../../config/app-config.js';
import type { DeadLetterQueue } from '../../ports/dead-letters.js';
import { noWebhookDeadLetters, type WebhookDeadLetters } from '../../ports/webhook-outbox.js';
import type { ServerMetrics } from '../../ports/metrics.js';
import type { Logger } from '../../ports/logger.js';
import type { RateLimiter } from '../../ports/realtime.js';
import type { Schemas } from '../../protocol/schemas.js';
import type { ChatService } from '../../services/chat-service.js';
import type { IceService } from '../../services/ice-service.js';
import type { OperatorService } from '../../services/operator-service.js';
import type { Readiness } from '../../services/readiness.js';
import type { RoomService } from '../../services/room-service.js';
import type { TokenService } from '../../services/token-service.js';
import type { OriginPolicy } from '../origin-policy.js';
import { docsRoutes } from './api-docs/docs-routes.js';
import { requireUser } from './auth-middleware.js';
import { DEMO_PUBLIC_DIR, demoClient } from './demo-client.js';
import { errorHandler, notFoundHandler, sendError } from './error-handler.js';
import { adminRoutes } from './routes/admin-routes.js';
import { authRoutes } from './routes/auth-routes.js';
import { healthRoutes } from './routes/health-routes.js';
import { iceRoutes } from './routes/ice-routes.js';
import { messageRoutes } from './routes/message-routes.js';
import { roomRoutes } from './routes/room-routes.js';

export interface HttpDeps {
  config: AppConfig;
  logger: Logger;
  metrics: ServerMetrics;
  schemas: Schemas;
  originPolicy: OriginPolicy;
  httpLimiter: RateLimiter;
  tokens: TokenService;
  rooms: RoomService;
  chat: ChatService;
  ice: IceService;
  readiness: Readiness;
  /** The bundled demo client; defaults to the package's dist/public. */
  publicDir?: string;
  deadLetters: DeadLetterQueue;
  /** Webhook deliveries given up (none while webhooks are off). */
  webhookDeadLetters?: WebhookDeadLetters;
  operator: OperatorService;
}

/** The Express app: security headers, CORS, limits, the REST API, health endpoints and the demo page. */
export function createHttpApp(deps: HttpDeps): express.Express {
  const { config, logger } = deps;
  const app = express();
  app.disable('x-powered-by');
  app.set('trust proxy', config.trustProxy);
  app.set('query parser', 'simple');

  app.use(requestMetrics(deps.metrics, config.production ? null : logger));
  app.use(helmet());
  app.use(
    cors({
      origin: (origin, cb) => cb(null, deps.originPolicy(origin, undefined) ? (origin ?? false) : false),
      allowedHeaders: ['Authorization', 'Content-Type'],
      maxAge: 600,
    }),
  );
  app.use(compression());
  app.use(healthRoutes({ readiness: deps.readiness, metrics: deps.metrics, nodeId: config.nodeId }));

  app.use('/api', rateLimit(deps.httpLimiter));
  app.use('/api', requireJsonBody, express.json({ limit: config.maxPayloadBytes, strict: true }));
  app.use('/api/admin', adminRoutes({ deadLetters: deps.deadLetters, webhookDeadLetters: deps.webhookDeadLetters ?? noWebhookDeadLetters, adminToken: config.adminToken, operator: deps.operator, schemas: deps.schemas }));
  app.use('/api', docsRoutes({ schemas: deps.schemas, socketPath: config.socketPath }));
  app.use('/api', authRoutes({ tokens: deps.tokens, schemas: deps.schemas, allowGuests: config.allowGuests }));
  app.use('/api', requireUser(deps.tokens));
  app.use('/api', roomRoutes(deps));
  app.use('/api', messageRoutes(deps));
  app.use('/api', iceRoutes(deps));
  // The demo client at `/`, after the API routes so that their requests never pass through it.
  app.use(demoClient(deps.publicDir ?? DEMO_PUBLIC_DIR, logger));

  app.use(notFoundHandler);
  app.use(errorHandler(logger));
  return app;
}

/** A body that is not JSON is refused (415) rather than silently ignored. */
const requireJsonBody: RequestHandler = (req, res, next) => {
  const hasBody = Number(req.headers['content-length'] ?? 0) > 0 || req.headers['transfer-encoding'] !== undefined;
  if (hasBody && !req.is('application/json')) {
    return sendError(res, { code: 'UNSUPPORTED_MEDIA_TYPE', message: 'request body must be application/json' });
  }
  next();
};

function rateLimit(limiter: RateLimiter): RequestHandler {
  return async (req, res, next) => {
    const decision = await limiter.consume(req.ip ?? 'unknown');
    if (decision.allowed) return next();
    sendError(res, { code: 'RATE_LIMITED', message: 'too many requests', retryAfterMs: decision.retryAfterMs });
  };
}

/** Counts every response; in development also logs it (never bodies or headers). */
function requestMetrics(metrics: ServerMetrics, devLogger: Logger | null): RequestHandler {
  return (req, res, next) => {
    const started = process.hrtime.bigint();
    res.on('finish', () => {
      const route = (req.route as { path?: string } | undefined)?.path;
      // Only route patterns and mount points become labels: a path the client chose would make
      // every random URL a new time series, kept forever (unbounded memory, a scrape DoS).
      const label = route ? `${req.baseUrl}${route}` : res.statusCode === 404 ? 'unmatched' : req.baseUrl || 'unmatched';
      metrics.httpRequest(req.method, label, res.statusCode);
      devLogger?.http('request', {
        method: req.method,
        path: req.originalUrl.split('?')[0],
        status: res.statusCode,
        ms: Number(process.hrtime.bigint() - started) / 1e6,
      });
    });
    next();
  };
}
