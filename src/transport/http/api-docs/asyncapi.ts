import { z } from 'zod';
import { AckErrorSchema } from '../../../protocol/answers.js';
import { ErrorCode } from '../../../protocol/error-codes.js';
import { requestTables, SERVER_EVENTS, type RequestSpec } from '../../../protocol/events.js';
import { NAMESPACES } from '../../../protocol/index.js';
import type { Schemas } from '../../../protocol/schemas.js';
import { toComponents, type JsonSchema } from './json-schemas.js';
import { namedSchemas, type DocInfo } from './openapi.js';

const REF = '#/components/schemas/';
type Namespace = keyof typeof NAMESPACES;

/** AsyncAPI ids allow `[A-Za-z0-9._-]`: `chat:send` on /chat becomes `chat.chat_send`. */
const slug = (ns: Namespace, event: string) => `${ns}.${event.replace(/:/g, '_')}`;
const cap = (s: string) => s.replace(/(^|[-:_])(\w)/g, (_m, _sep, c: string) => c.toUpperCase());

/**
 * The AsyncAPI 3 document of `/chat` and `/rtc`, generated from the request tables (payload
 * and ack per client → server event) and SERVER_EVENTS. Each request is a `receive`
 * operation whose `reply` is the ack; each server event a `send` operation.
 */
export function buildAsyncApi(schemas: Schemas, info: DocInfo): JsonSchema {
  const named: Record<string, z.ZodType> = { ...namedSchemas(schemas) };
  const tables = requestTables(schemas);
  const channels: Record<string, unknown> = {};
  const operations: Record<string, unknown> = {};
  const messages: Record<string, unknown> = {};

  for (const ns of Object.keys(NAMESPACES) as Namespace[]) {
    const channelMessages: Record<string, unknown> = {};
    const msgRef = (id: string) => ({ $ref: `#/channels/${ns}/messages/${id}` });
    const requests = tables[ns] as Record<string, RequestSpec>;
    for (const [event, spec] of Object.entries(requests)) {
      const ackName = `${cap(ns)}${cap(event)}Ack`;
      // The ack is one object: `{ok: true, …result}` or `{ok: false, error}`.
      // A result with several shapes (`call:join`: in the call, or waiting in the lobby) gives one ack shape each.
      const ok = (result: z.ZodType) => (result as z.ZodObject).extend({ ok: z.literal(true) });
      const results = spec.result instanceof z.ZodUnion ? (spec.result.options as z.ZodType[]) : [spec.result];
      named[ackName] = z.union([...results.map(ok), AckErrorSchema]);
      const id = slug(ns, event);
      messages[id] = message(event, spec.summary, named, spec.payload);
      messages[`${id}.ack`] = { name: `${event} ack`, title: `ack of ${event}`, payload: { $ref: REF + ackName } };
      channelMessages[id] = { $ref: `#/components/messages/${id}` };
      channelMessages[`${id}.ack`] = { $ref: `#/components/messages/${id}.ack` };
      operations[id] = {
        action: 'receive',
        channel: { $ref: `#/channels/${ns}` },
        summary: spec.summary,
        messages: [msgRef(id)],
        reply: { channel: { $ref: `#/channels/${ns}` }, messages: [msgRef(`${id}.ack`)] },
      };
    }
    for (const [event, schema] of Object.entries(SERVER_EVENTS[ns] as Record<string, z.ZodType>)) {
      const id = `${slug(ns, event)}.push`;
      messages[id] = message(event, schema.description ?? `server → client \`${event}\``, named, schema);
      channelMessages[id] = { $ref: `#/components/messages/${id}` };
      operations[id] = { action: 'send', channel: { $ref: `#/channels/${ns}` }, summary: `server → client \`${event}\``, messages: [msgRef(id)] };
    }
    channels[ns] = {
      address: NAMESPACES[ns],
      title: `Socket.IO namespace ${NAMESPACES[ns]}`,
      description:
        'Every client → server event may carry an ack callback; it is processed all the same without one. ' +
        'With connection-state recovery on, events that go through the adapter carry the recovery offset as a trailing argument: ' +
        'handlers in other languages must accept extra arguments (`*args`).',
      messages: channelMessages,
    };
  }

  return {
    asyncapi: '3.0.0',
    info: {
      title: `${info.title} real-time API`,
      version: info.version,
      description:
        `Socket.IO 4 (Engine.IO 4) at path \`${info.socketPath}\`, namespaces /chat and /rtc. ` +
        'The handshake sends `auth: {token}` (a JWT); a refused handshake gives `connect_error` whose message is the code ' +
        `(${[ErrorCode.UNAUTHORIZED, ErrorCode.RATE_LIMITED, ErrorCode.TOO_MANY_CONNECTIONS].join(', ')}). ` +
        `Error codes of failed acks: ${Object.values(ErrorCode).join(', ')}.`,
    },
    defaultContentType: 'application/json',
    servers: {
      socketio: {
        host: 'localhost:3001',
        protocol: 'ws',
        pathname: info.socketPath,
        description: 'the host that served this document; Socket.IO over WebSocket (or HTTP long-polling)',
        security: [{ $ref: '#/components/securitySchemes/token' }],
      },
    },
    channels,
    operations,
    components: {
      schemas: toComponents(named, { prefix: REF, target: 'draft-7' }),
      messages,
      securitySchemes: {
        token: { type: 'httpApiKey', in: 'query', name: 'token', description: 'not a query parameter: the JWT goes in the Socket.IO handshake as `auth: {token}`' },
      },
    },
  };
}

function message(event: string, summary: string, named: Record<string, z.ZodType>, schema: z.ZodType): JsonSchema {
  const name = Object.entries(named).find(([, s]) => s === schema)?.[0];
  if (!name) throw new Error(`the schema of ${event} has no component name`);
  return { name: event, title: event, summary, payload: { $ref: REF + name } };
}
