import { expect } from 'chai';
import express from 'express';
import helmet from 'helmet';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { createLogger } from '../../src/infra/logging/create-logger.js';
import { demoClient } from '../../src/transport/http/demo-client.js';
import { tempDir, startServer, type TestServer } from '../helpers/test-server.js';

describe('the demo client route', () => {
  let dir: string;
  let server: Server;
  let base: string;

  before(async () => {
    dir = tempDir('vcs-public-');
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'index.html'), '<!doctype html><title>demo</title><script type="module" src="main.js"></script>');
    writeFileSync(join(dir, 'main.js'), 'console.log(1)');
    const app = express();
    app.use(helmet());
    app.use(demoClient(dir, createLogger({ level: 'silent', json: false, dir: null })));
    app.use((_req, res) => void res.status(404).json({ error: { code: 'NOT_FOUND', message: 'no route' } }));
    server = app.listen(0, '127.0.0.1');
    await new Promise((resolve) => server.once('listening', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  after(() => {
    server.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('serves the page at / with a CSP that allows only what the page needs', async () => {
    const res = await fetch(`${base}/`);
    expect(res.status).to.equal(200);
    expect(res.headers.get('content-type')).to.match(/^text\/html/);
    const csp = res.headers.get('content-security-policy') ?? '';
    for (const directive of [
      "default-src 'self'",
      "script-src 'self'",
      "script-src-attr 'none'",
      "style-src 'self'",
      "connect-src 'self'",
      "media-src 'self' blob: mediastream:",
      "img-src 'self' data:",
      "object-src 'none'",
      "frame-ancestors 'none'",
    ]) {
      expect(csp).to.include(directive);
    }
    expect(csp).not.to.include('unsafe-inline');
    expect(csp).not.to.include('unsafe-eval');
    expect(csp).not.to.include('upgrade-insecure-requests');
  });

  it('serves the bundle and passes unknown paths on', async () => {
    const js = await fetch(`${base}/main.js`);
    expect(js.status).to.equal(200);
    expect(js.headers.get('content-type')).to.match(/javascript/);
    const missing = await fetch(`${base}/nope.js`);
    expect(missing.status).to.equal(404);
    expect(await missing.json()).to.have.nested.property('error.code', 'NOT_FOUND');
  });
});

describe('the demo client beside the API (full server)', () => {
  let server: TestServer;
  before(async () => (server = await startServer()));
  after(() => server.stop());

  it('leaves REST errors and health endpoints as they were', async () => {
    const unknown = await fetch(`${server.url}/api/nope`, { method: 'POST' });
    expect(unknown.status).to.equal(401);
    expect(await unknown.json()).to.have.nested.property('error.code', 'UNAUTHORIZED');
    const health = await fetch(`${server.url}/healthz`);
    expect(health.status).to.equal(200);
    const nothing = await fetch(`${server.url}/definitely-not-a-file`);
    expect(nothing.status).to.equal(404);
    expect(await nothing.json()).to.have.nested.property('error.code', 'NOT_FOUND');
  });
});
