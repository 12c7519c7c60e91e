import { z } from 'zod';

export type JsonSchema = Record<string, unknown>;

/**
 * Named zod schemas as JSON Schema components that refer to each other by `$ref`
 * (`<prefix><name>`), so a model used in ten answers is described once. A registry per call
 * rather than zod's global one: two documents (or two servers in one test process) never
 * see each other's names. `io: 'input'` describes what a value looks like on the wire before
 * any transform (a query number is a string of digits), and leaves non-strict objects open
 * (answers may grow fields, and clients ignore the ones they do not know).
 */
export function toComponents(
  named: Record<string, z.ZodType>,
  options: { prefix: string; target: 'draft-2020-12' | 'draft-7' },
): Record<string, JsonSchema> {
  const registry = z.registry<{ id: string }>();
  for (const [id, schema] of Object.entries(named)) {
    // The same schema object under two names would be ambiguous for $ref: keep the first.
    if (!registry.has(schema)) registry.add(schema, { id });
  }
  const { schemas } = z.toJSONSchema(registry, {
    io: 'input',
    target: options.target,
    unrepresentable: 'any',
    uri: (id) => `${options.prefix}${id}`,
  });
  const out: Record<string, JsonSchema> = {};
  for (const [id, schema] of Object.entries(schemas)) out[id] = withoutDialect(schema as JsonSchema);
  return out;
}

/** One schema, inline (for parameters): no `$schema`, no `$id`. */
export function toInline(schema: z.ZodType, target: 'draft-2020-12' | 'draft-7'): JsonSchema {
  return withoutDialect(z.toJSONSchema(schema, { io: 'input', target, unrepresentable: 'any' }) as JsonSchema);
}

/** Components live inside a document that already fixes the dialect; `$id` would re-base refs. */
function withoutDialect(schema: JsonSchema): JsonSchema {
  const { $schema: _dialect, $id: _id, ...rest } = schema;
  return rest;
}
