import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import express, { Router } from 'express';
import helmet from 'helmet';
import type { Logger } from '../../ports/logger.js';

/**
 * Where `npm run build` puts the bundled demo client (scripts/build-client.mjs): the package's
 * dist/public, whether this module runs from src/ (tsx) or from dist/.
 */
export const DEMO_PUBLIC_DIR = fileURLToPath(new URL('../../../dist/public/', import.meta.url));

/**
 * The demo page's Content-Security-Policy: its own script, styles and sockets (same-origin
 * `ws:`/`wss:` are covered by 'self'), camera streams in <video>, and nothing inline, framed or
 * plugged in. The API keeps helmet's defaults.
 */
export const DEMO_CSP_DIRECTIVES = {
  defaultSrc: ["'self'"],
  scriptSrc: ["'self'"],
  scriptSrcAttr: ["'none'"],
  styleSrc: ["'self'"],
  imgSrc: ["'self'", 'data:'],
  mediaSrc: ["'self'", 'blob:', 'mediastream:'],
  connectSrc: ["'self'"],
  fontSrc: ["'self'"],
  objectSrc: ["'none'"],
  baseUri: ["'none'"],
  formAction: ["'self'"],
  frameAncestors: ["'none'"],
};

/** Serves the demo client at `/` (static files, revalidated on every load). */
export function demoClient(publicDir: string, logger: Logger): Router {
  const router = Router();
  if (!existsSync(join(publicDir, 'index.html'))) {
    logger.info('demo client not built: `npm run build` bundles it into dist/public', { publicDir });
  }
  router.use(
    helmet.contentSecurityPolicy({ useDefaults: false, directives: DEMO_CSP_DIRECTIVES }),
    express.static(publicDir, { index: 'index.html', maxAge: 0, redirect: false }),
  );
  return router;
}
