import type { z } from 'zod';
import * as answers from '../../../protocol/answers.js';
import { ErrorCode, httpStatusOf } from '../../../protocol/error-codes.js';
import * as models from '../../../protocol/models.js';
import type { Schemas } from '../../../protocol/schemas.js';
import { toComponents, toInline, type JsonSchema } from './json-schemas.js';
import { restRoutes, type RestRoute } from './rest-routes.js';

export interface DocInfo {
  title: string;
  version: string;
  socketPath: string;
}

const REF = '#/components/schemas/';

/**
 * Every zod schema a document may name, under its component name: the models, the answers
 * and the inbound payloads. Names come from the export names (`RoomSchema` → `Room`), so
 * renaming a schema renames its component and nothing is named twice by hand.
 */
export function namedSchemas(schemas: Schemas): Record<string, z.ZodType> {
  const named: Record<string, z.ZodType> = {};
  for (const [key, value] of Object.entries({ ...models, ...answers })) {
    if (key.endsWith('Schema') && isZod(value)) named[key.slice(0, -'Schema'.length)] = value;
  }
  for (const [key, value] of Object.entries(schemas)) named[`${key[0]!.toUpperCase()}${key.slice(1)}Payload`] = value;
  return named;
}

const isZod = (v: unknown): v is z.ZodType => typeof v === 'object' && v !== null && '_zod' in v;

/** The OpenAPI 3.1 document of the REST API, generated from the route table and the schemas. */
export function buildOpenApi(schemas: Schemas, info: DocInfo): JsonSchema {
  const named = namedSchemas(schemas);
  const nameOf = new Map<z.ZodType, string>();
  for (const [name, schema] of Object.entries(named)) if (!nameOf.has(schema)) nameOf.set(schema, name);
  const ref = (schema: z.ZodType): JsonSchema => {
    const name = nameOf.get(schema);
    return name ? { $ref: REF + name } : toInline(schema, 'draft-2020-12');
  };
  const paths: Record<string, Record<string, unknown>> = {};
  for (const route of restRoutes(schemas)) (paths[route.path] ??= {})[route.method] = operation(route, ref);
  return {
    openapi: '3.1.0',
    info: {
      title: `${info.title} REST API`,
      version: info.version,
      description:
        'JSON in and out. Errors are always `{"error":{"code","message","details?"}}` with a stable `code`. ' +
        'Ids are opaque strings: an id that names nothing is 404 `…_NOT_FOUND`; a value of the wrong type is 400 `VALIDATION_FAILED`. ' +
        `The real-time part (Socket.IO at \`${info.socketPath}\`) is described by /api/asyncapi.json.`,
    },
    servers: [{ url: '/' }],
    paths,
    components: {
      schemas: { ...toComponents(named, { prefix: REF, target: 'draft-2020-12' }), ErrorCode: errorCodeSchema() },
      securitySchemes: {
        bearer: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT', description: 'a token from POST /api/auth/guest (or one signed with JWT_SECRET)' },
        admin: { type: 'http', scheme: 'bearer', description: 'the ADMIN_TOKEN' },
      },
    },
  };
}

function operation(route: RestRoute, ref: (s: z.ZodType) => JsonSchema): Record<string, unknown> {
  const parameters = [
    ...Object.entries(route.pathParams ?? {}).map(([name, schema]) => ({ name, in: 'path', required: true, schema: ref(schema) })),
    ...Object.entries(route.query?.shape ?? {}).map(([name, schema]) => ({
      name,
      in: 'query',
      required: !(schema as z.ZodType).safeParse(undefined).success,
      schema: toInline(schema as z.ZodType, 'draft-2020-12'),
    })),
  ];
  const responses: Record<string, unknown> = {};
  for (const [status, r] of Object.entries(route.responses)) {
    responses[status] = r.schema
      ? { description: r.description, content: { [r.contentType ?? 'application/json']: { schema: ref(r.schema) } } }
      : r.contentType
        ? { description: r.description, content: { [r.contentType]: { schema: { type: 'string' } } } }
        : { description: r.description };
  }
  for (const [status, codes] of errorsByStatus(route)) {
    responses[status] = {
      description: codes.map((c) => `\`${c}\``).join(', '),
      content: { 'application/json': { schema: { $ref: `${REF}ErrorResponse` } } },
      ...(codes.includes('RATE_LIMITED') ? { headers: { 'Retry-After': { description: 'seconds to wait', schema: { type: 'integer' } } } } : {}),
    };
  }
  return {
    operationId: `${route.method}${route.path.replace(/[{}]/g, '').replace(/[/-](\w)/g, (_m, c: string) => c.toUpperCase())}`,
    summary: route.summary,
    security: route.auth === 'none' ? [] : [{ [route.auth === 'admin' ? 'admin' : 'bearer']: [] }],
    ...(parameters.length ? { parameters } : {}),
    ...(route.body
      ? { requestBody: { required: true, content: { 'application/json': { schema: ref(route.body.schema), example: route.body.example } } } }
      : {}),
    responses,
  };
}

/** The route's own codes plus those every route of its kind can answer, grouped by HTTP status. */
function errorsByStatus(route: RestRoute): Map<number, ErrorCode[]> {
  const codes = new Set<ErrorCode>(route.errors);
  if (route.rateLimited !== false) codes.add('RATE_LIMITED');
  if (route.auth !== 'none') codes.add('UNAUTHORIZED');
  if (route.body || route.query || route.pathParams) codes.add('VALIDATION_FAILED');
  if (route.body) {
    codes.add('PAYLOAD_TOO_LARGE');
    codes.add('UNSUPPORTED_MEDIA_TYPE');
  }
  const byStatus = new Map<number, ErrorCode[]>();
  for (const code of codes) byStatus.set(httpStatusOf[code], [...(byStatus.get(httpStatusOf[code]) ?? []), code]);
  return new Map([...byStatus].sort(([a], [b]) => a - b));
}

function errorCodeSchema(): JsonSchema {
  return {
    type: 'string',
    enum: Object.values(ErrorCode),
    description: Object.values(ErrorCode).map((c) => `${c}: HTTP ${httpStatusOf[c]}`).join('; '),
  };
}
