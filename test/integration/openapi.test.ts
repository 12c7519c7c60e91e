import { validate } from '@readme/openapi-parser';
import { expect } from 'chai';
import { guest, request, type HttpResult } from '../helpers/http-client.js';
import { componentChecker } from '../helpers/schema-check.js';
import { ask, connect } from '../helpers/socket-client.js';
import { useServer } from '../helpers/test-server.js';

const ADMIN = 'admin-token-0123456789';

interface Operation {
  requestBody?: { content: Record<string, { schema: { $ref: string }; example: unknown }> };
  responses: Record<string, { content?: Record<string, { schema: { $ref?: string } }> }>;
}

/**
 * GET /api/openapi.json: valid OpenAPI 3.1 by an independent parser, and a true description
 * of the server: every documented route is called on a real server, and each answer's
 * status must be documented and its body must match the schema documented for that status.
 */
describe('OpenAPI document (GET /api/openapi.json)', () => {
  const { server } = useServer({ ADMIN_TOKEN: ADMIN, TURN_URLS: 'turn:127.0.0.1:3478', TURN_SECRET: 'turn-secret-for-tests' });
  let doc: { openapi: string; paths: Record<string, Record<string, Operation>>; components: unknown };
  let check: ReturnType<typeof componentChecker>;
  const called = new Set<string>();

  before(async () => {
    const res = await request(server.url, 'GET', '/api/openapi.json');
    expect(res.status).to.equal(200);
    doc = res.body;
    check = componentChecker(doc, '2020-12');
  });

  /** Holds a real answer to the document: its status is listed and its body matches. */
  function expectDocumented(method: string, template: string, res: HttpResult): void {
    const op = doc.paths[template]?.[method];
    expect(op, `${method} ${template} is documented`).to.not.equal(undefined);
    called.add(`${method} ${template}`);
    const response = op!.responses[String(res.status)];
    expect(response, `${method} ${template} answered ${res.status}, which is not documented: ${JSON.stringify(res.body)}`).to.not.equal(undefined);
    const json = response!.content?.['application/json'];
    if (!json) {
      if (!response!.content) expect(res.body, `${method} ${template} ${res.status} has no body`).to.equal(undefined);
      return;
    }
    check(json.schema.$ref!.split('/').pop()!, res.body);
  }

  it('is valid OpenAPI 3.1 for @readme/openapi-parser', async () => {
    expect(doc.openapi).to.equal('3.1.0');
    // The parser dereferences in place: hand it a copy.
    const result = await validate(structuredClone(doc) as never);
    expect(result.valid, JSON.stringify(result)).to.equal(true);
  });

  it('has a bearer scheme, and every request example matches its body schema', () => {
    expect(JSON.stringify((doc.components as { securitySchemes: unknown }).securitySchemes)).to.contain('"scheme":"bearer"');
    for (const [path, methods] of Object.entries(doc.paths)) {
      for (const [method, op] of Object.entries(methods)) {
        const body = op.requestBody?.content['application/json'];
        if (!body) continue;
        expect(body.example, `${method} ${path} has an example`).to.not.equal(undefined);
        check(body.schema.$ref.split('/').pop()!, body.example);
      }
    }
  });

  it('describes every answer of every route, successes and errors alike', async () => {
    const url = server.url;
    const ann = await guest(url, 'ann');
    const bob = await guest(url, 'bob');
    const call = async (method: string, template: string, path: string, options: Parameters<typeof request>[3] = {}) => {
      const res = await request(url, method.toUpperCase(), path, options);
      expectDocumented(method, template, res);
      return res;
    };
    const t = ann.token;
    await call('post', '/api/auth/guest', '/api/auth/guest', { body: { name: 'cy' } });
    await call('post', '/api/auth/guest', '/api/auth/guest', { body: { name: '' } });
    await call('post', '/api/auth/guest', '/api/auth/guest', { rawBody: 'name=cy', headers: { 'content-type': 'text/plain' } });

    const room = (await call('post', '/api/rooms', '/api/rooms', { token: t, body: { name: 'docs', isPrivate: true } })).body;
    await call('post', '/api/rooms', '/api/rooms', { body: { name: 'x' } });
    await call('post', '/api/rooms', '/api/rooms', { token: t, body: { name: 'x', extra: 1 } });
    await call('get', '/api/rooms/{id}', `/api/rooms/${room.id}`, { token: t });
    await call('get', '/api/rooms/{id}', '/api/rooms/nope', { token: t });
    await call('get', '/api/rooms/{id}', `/api/rooms/${room.id}`, { token: bob.token });
    await call('post', '/api/rooms/{id}/members', `/api/rooms/${room.id}/members`, { token: bob.token, body: { userId: bob.user.id } });
    await call('post', '/api/rooms/{id}/members', `/api/rooms/${room.id}/members`, { token: t, body: { userId: bob.user.id } });
    await call('post', '/api/rooms/{id}/members', '/api/rooms/nope/members', { token: t, body: { userId: bob.user.id } });
    await call('get', '/api/rooms', '/api/rooms?limit=1', { token: t });
    await call('get', '/api/rooms', '/api/rooms?cursor=%25', { token: t });
    await call('get', '/api/rooms/{id}/members', `/api/rooms/${room.id}/members`, { token: bob.token });
    await call('get', '/api/rooms/{id}/members', '/api/rooms/nope/members', { token: t });
    await call('put', '/api/rooms/{id}/members/{userId}', `/api/rooms/${room.id}/members/${bob.user.id}`, { token: t, body: { role: 'moderator' } });
    await call('put', '/api/rooms/{id}/members/{userId}', `/api/rooms/${room.id}/members/${ann.user.id}`, { token: t, body: { role: 'member' } });
    await call('put', '/api/rooms/{id}/members/{userId}', `/api/rooms/${room.id}/members/${bob.user.id}`, { token: bob.token, body: { role: 'member' } });
    await call('patch', '/api/rooms/{id}', `/api/rooms/${room.id}`, { token: bob.token, body: { locked: true } });
    await call('patch', '/api/rooms/{id}', `/api/rooms/${room.id}`, { token: t, body: {} });
    await call('patch', '/api/rooms/{id}', `/api/rooms/${room.id}`, { token: t, body: { name: 'renamed', lobby: true } });
    await call('delete', '/api/rooms/{id}/members/{userId}', `/api/rooms/${room.id}/members/${ann.user.id}`, { token: bob.token });
    await call('delete', '/api/rooms/{id}/members/{userId}', `/api/rooms/${room.id}/members/${bob.user.id}?ban=true`, { token: t });
    await call('delete', '/api/rooms/{id}', `/api/rooms/${room.id}`, { token: bob.token });
    await call('get', '/api/rooms/{id}/members', `/api/rooms/${room.id}/members?limit=2`, { token: t });

    const send = { roomId: room.id, text: 'hello', clientMsgId: 'c1' };
    expect((await call('post', '/api/messages', '/api/messages', { token: t, body: send })).status).to.equal(201);
    expect((await call('post', '/api/messages', '/api/messages', { token: t, body: send })).status).to.equal(200);
    await call('post', '/api/messages', '/api/messages', { token: t, body: { roomId: 'nope', text: 'x' } });
    await call('post', '/api/messages', '/api/messages', { token: t, body: { roomId: room.id, text: 'x'.repeat(70_000) } });
    await call('get', '/api/messages', `/api/messages?roomId=${room.id}`, { token: t });
    await call('get', '/api/messages', `/api/messages?roomId=${room.id}&after=0&limit=1`, { token: bob.token });
    await call('get', '/api/messages', `/api/messages?roomId=${room.id}&after=-1`, { token: t });
    const sent = (await call('post', '/api/messages', '/api/messages', { token: t, body: { roomId: room.id, text: 'to change', replyTo: 1 } })).body;
    await call('post', '/api/messages', '/api/messages', { token: t, body: { roomId: room.id, text: 'x', replyTo: 99 } });
    const edit = '/api/messages/{id}';
    await call('patch', edit, `/api/messages/${sent.id}`, { token: t, body: { text: 'changed' } });
    await call('patch', edit, `/api/messages/${sent.id}`, { token: t, body: { text: '' } });
    await call('patch', edit, `/api/messages/${sent.id}`, { token: bob.token, body: { text: 'not mine' } });
    await call('patch', edit, '/api/messages/nope', { token: t, body: { text: 'x' } });
    const reaction = '/api/messages/{id}/reactions/{emoji}';
    const thumbs = encodeURIComponent('👍');
    await call('put', reaction, `/api/messages/${sent.id}/reactions/${thumbs}`, { token: t });
    await call('put', reaction, `/api/messages/${sent.id}/reactions/abc`, { token: t });
    await call('put', reaction, `/api/messages/nope/reactions/${thumbs}`, { token: t });
    await call('delete', reaction, `/api/messages/${sent.id}/reactions/${thumbs}`, { token: t });
    await call('delete', reaction, `/api/messages/${sent.id}/reactions/${thumbs}`, { token: bob.token });
    await call('delete', edit, `/api/messages/${sent.id}`, { token: bob.token });
    await call('delete', edit, `/api/messages/${sent.id}`, { token: t });
    await call('delete', edit, '/api/messages/nope', { token: t });
    await call('patch', edit, `/api/messages/${sent.id}`, { token: t, body: { text: 'too late' } });
    const found = await call('get', '/api/messages/search', `/api/messages/search?roomId=${room.id}&q=HELLO&limit=5`, { token: t });
    expect(found.body.messages.map((m: { text: string }) => m.text)).to.deep.equal(['hello']);
    await call('get', '/api/messages/search', `/api/messages/search?roomId=${room.id}&q=hello`, { token: bob.token });
    await call('get', '/api/messages/search', '/api/messages/search?roomId=nope&q=hello', { token: t });
    await call('get', '/api/messages/search', `/api/messages/search?roomId=${room.id}&q=%21%3F`, { token: t });
    await call('get', '/api/messages/search', `/api/messages/search?roomId=${room.id}&q=hello`);
    const ice = await call('get', '/api/ice-servers', '/api/ice-servers', { token: t });
    expect(ice.body.iceServers.some((s: { credential?: string }) => s.credential)).to.equal(true);

    await call('get', '/api/admin/dead-letters', '/api/admin/dead-letters', { token: ADMIN });
    await call('get', '/api/admin/dead-letters', '/api/admin/dead-letters');
    await call('get', '/api/admin/dead-letters', '/api/admin/dead-letters', { token: t });
    await call('get', '/api/admin/dead-letters', '/api/admin/dead-letters?limit=0', { token: ADMIN });
    await call('post', '/api/admin/dead-letters/{id}/retry', '/api/admin/dead-letters/nope/retry', { token: ADMIN });
    await call('delete', '/api/admin/dead-letters/{id}', '/api/admin/dead-letters/nope', { token: ADMIN });
    await call('get', '/api/admin/webhooks/dead-letters', '/api/admin/webhooks/dead-letters', { token: ADMIN });
    await call('get', '/api/admin/webhooks/dead-letters', '/api/admin/webhooks/dead-letters?limit=0', { token: ADMIN });
    await call('post', '/api/admin/webhooks/dead-letters/{id}/retry', '/api/admin/webhooks/dead-letters/nope/retry', { token: ADMIN });
    await call('delete', '/api/admin/webhooks/dead-letters/{id}', '/api/admin/webhooks/dead-letters/nope', { token: ADMIN });

    const doomed = (await call('post', '/api/rooms', '/api/rooms', { token: t, body: { name: 'doomed' } })).body;
    await call('delete', '/api/rooms/{id}', `/api/rooms/${doomed.id}`, { token: t });
    await call('delete', '/api/rooms/{id}', `/api/rooms/${doomed.id}`, { token: t });
    const anns = await connect(url, '/chat', t);
    try {
      await ask(anns, 'room:join', { roomId: room.id });
      const online = await call('get', '/api/admin/rooms/{id}/participants', `/api/admin/rooms/${room.id}/participants`, { token: ADMIN });
      expect(online.body.participants).to.have.length(1);
    } finally {
      anns.close();
    }
    await call('get', '/api/admin/rooms/{id}/participants', '/api/admin/rooms/nope/participants', { token: ADMIN });
    await call('get', '/api/admin/rooms/{id}/participants', `/api/admin/rooms/${room.id}/participants`, { token: t });
    await call('post', '/api/admin/rooms/{id}/messages', `/api/admin/rooms/${room.id}/messages`, { token: ADMIN, body: { text: 'notice' } });
    await call('post', '/api/admin/rooms/{id}/messages', `/api/admin/rooms/${room.id}/messages`, { token: ADMIN, body: { text: '' } });
    await call('post', '/api/admin/rooms/{id}/messages', '/api/admin/rooms/nope/messages', { token: ADMIN, body: { text: 'x' } });
    await call('post', '/api/admin/rooms/{id}/messages', `/api/admin/rooms/${room.id}/messages`, { body: { text: 'x' } });
    await call('post', '/api/admin/users/{userId}/disconnect', `/api/admin/users/${bob.user.id}/disconnect`, { token: ADMIN, body: {} });
    await call('post', '/api/admin/users/{userId}/disconnect', `/api/admin/users/${bob.user.id}/disconnect`, { token: ADMIN, body: { revoke: 1 } });

    await call('get', '/healthz', '/healthz');
    await call('get', '/readyz', '/readyz');
    const metrics = await call('get', '/metrics', '/metrics');
    expect(metrics.headers.get('content-type')).to.match(/^text\/plain/);

    const documented = Object.entries(doc.paths).flatMap(([path, methods]) => Object.keys(methods).map((m) => `${m} ${path}`));
    expect([...called].sort()).to.deep.equal(documented.sort());
  });
});
