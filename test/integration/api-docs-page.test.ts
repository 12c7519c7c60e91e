import { expect } from 'chai';
import { request } from '../helpers/http-client.js';
import { useServer } from '../helpers/test-server.js';

/**
 * GET /api/docs: both documents as one HTML page, rendered by the server from the documents
 * it publishes, under the API's CSP as it is (helmet's defaults: no inline or eval script).
 * test/e2e/api-docs.e2e.ts loads it in chromium.
 */
describe('API docs page (GET /api/docs)', () => {
  const { server } = useServer();

  it('is HTML without any script or inline style, under a CSP without unsafe-inline or unsafe-eval for scripts', async () => {
    const res = await request(server.url, 'GET', '/api/docs');
    expect(res.status).to.equal(200);
    expect(res.headers.get('content-type')).to.match(/^text\/html/);
    const csp = res.headers.get('content-security-policy') ?? '';
    const scriptSrc = /script-src ([^;]*)/.exec(csp)?.[1] ?? '';
    expect(scriptSrc).to.equal("'self'");
    expect(csp).to.contain("script-src-attr 'none'");
    const html = res.body as string;
    expect(html).to.not.match(/<script|\sstyle=|\son\w+=/i);
    const css = await request(server.url, 'GET', '/api/docs.css');
    expect(css.status).to.equal(200);
    expect(css.headers.get('content-type')).to.match(/^text\/css/);
  });

  it('shows every route, every event and every schema of the documents, with working schema links', async () => {
    const html = (await request(server.url, 'GET', '/api/docs')).body as string;
    const openapi = (await request(server.url, 'GET', '/api/openapi.json')).body;
    const asyncapi = (await request(server.url, 'GET', '/api/asyncapi.json')).body;
    for (const [path, methods] of Object.entries(openapi.paths as Record<string, object>)) {
      for (const method of Object.keys(methods)) expect(html, `${method} ${path}`).to.contain(`<code>${method.toUpperCase()} ${path}</code>`);
    }
    for (const message of Object.values(asyncapi.components.messages as Record<string, { name: string }>)) {
      if (!message.name.endsWith(' ack')) expect(html, message.name).to.contain(`<code>${message.name}</code>`);
    }
    const ids = new Set([...html.matchAll(/id="schema-([^"]+)"/g)].map((m) => m[1]));
    for (const name of Object.keys({ ...openapi.components.schemas, ...asyncapi.components.schemas })) expect(ids, name).to.include(name);
    for (const [, target] of html.matchAll(/href="#schema-([^"]+)"/g)) expect(ids, `link to ${target}`).to.include(target);
  });
});
