import { readFileSync } from 'node:fs';
import { Router } from 'express';
import type { Schemas } from '../../../protocol/schemas.js';
import { buildAsyncApi } from './asyncapi.js';
import { DOCS_CSS, renderDocsPage } from './docs-page.js';
import type { JsonSchema } from './json-schemas.js';
import { buildOpenApi } from './openapi.js';

/** The package version, read once per app from package.json (four levels up from src/ and dist/ alike). */
function packageVersion(): string {
  const pkg = JSON.parse(readFileSync(new URL('../../../../package.json', import.meta.url), 'utf8')) as { version: string };
  return pkg.version;
}

/**
 * `GET /api/openapi.json`, `/api/asyncapi.json` and the page `/api/docs`: built once per app
 * from the schemas the server validates with (the limits of this configuration included),
 * public like the contract they describe.
 */
export function docsRoutes(deps: { schemas: Schemas; socketPath: string }): Router {
  const info = { title: 'Fault-tolerant video chat server', version: packageVersion(), socketPath: deps.socketPath };
  // Built on first request, not at start-up: test processes start hundreds of servers that never ask.
  let built: { openapi: JsonSchema; asyncapi: JsonSchema; page: string } | undefined;
  const docs = () => {
    if (built) return built;
    const openapi = buildOpenApi(deps.schemas, info);
    const asyncapi = buildAsyncApi(deps.schemas, info);
    return (built = { openapi, asyncapi, page: renderDocsPage(openapi, asyncapi) });
  };
  const router = Router();
  router.get('/openapi.json', (_req, res) => {
    res.json(docs().openapi);
  });
  router.get('/asyncapi.json', (req, res) => {
    // The Socket.IO server is wherever this document was fetched from.
    const { asyncapi } = docs();
    const servers = asyncapi.servers as Record<string, Record<string, unknown>>;
    res.json({ ...asyncapi, servers: { socketio: { ...servers.socketio, host: req.headers.host ?? servers.socketio!.host } } });
  });
  router.get('/docs', (_req, res) => {
    res.type('html').send(docs().page);
  });
  router.get('/docs.css', (_req, res) => {
    res.type('css').send(DOCS_CSS);
  });
  return router;
}
