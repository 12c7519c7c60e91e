import type { JsonSchema } from './json-schemas.js';

/**
 * The human-readable page of both documents, rendered on the server from the generated
 * documents themselves (so it cannot drift from them): plain HTML, every value escaped, no
 * script and no inline style, so it works under helmet's default CSP as it is.
 */
export function renderDocsPage(openapi: JsonSchema, asyncapi: JsonSchema): string {
  const info = openapi.info as { title: string; version: string; description: string };
  const ainfo = asyncapi.info as { title: string; description: string };
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${esc(info.title)} ${esc(info.version)}</title>
<link rel="stylesheet" href="/api/docs.css"></head><body>
<h1>${esc(info.title)} <small>${esc(info.version)}</small></h1>
<p>Machine-readable: <a href="/api/openapi.json">openapi.json</a> (OpenAPI 3.1),
<a href="/api/asyncapi.json">asyncapi.json</a> (AsyncAPI 3).</p>
<p>${esc(info.description)}</p>
<h2 id="rest">REST</h2>
${restSection(openapi)}
<h2 id="realtime">${esc(ainfo.title)}</h2>
<p>${esc(ainfo.description)}</p>
${realtimeSection(asyncapi)}
<h2 id="schemas">Schemas</h2>
${schemaSection({ ...schemasOf(asyncapi), ...schemasOf(openapi) })}
</body></html>
`;
}

export const DOCS_CSS = `body{font:15px/1.5 system-ui,sans-serif;max-width:70rem;margin:2rem auto;padding:0 1rem;color:#222}
table{border-collapse:collapse;width:100%;margin:.5rem 0 1.5rem}td,th{border:1px solid #ccc;padding:.3rem .5rem;text-align:left;vertical-align:top}
code,pre{font:13px ui-monospace,monospace}pre{background:#f5f5f5;padding:.5rem;overflow:auto}h3{margin-bottom:.2rem}
`;

function restSection(doc: JsonSchema): string {
  const rows: string[] = [];
  for (const [path, methods] of Object.entries(doc.paths as Record<string, Record<string, JsonSchema>>)) {
    for (const [method, op] of Object.entries(methods)) {
      const body = (op.requestBody as { content?: Record<string, { schema: JsonSchema }> } | undefined)?.content?.['application/json']?.schema;
      const params = ((op.parameters as { name: string; in: string; required: boolean }[] | undefined) ?? [])
        .map((p) => `<code>${esc(p.name)}</code> (${esc(p.in)}${p.required ? ', required' : ''})`)
        .join(', ');
      const responses = Object.entries(op.responses as Record<string, { description: string; content?: Record<string, { schema: JsonSchema }> }>)
        .map(([status, r]) => `<li><b>${esc(status)}</b> ${esc(r.description)} ${schemaLink(r.content?.['application/json']?.schema)}</li>`)
        .join('');
      const security = (op.security as Record<string, unknown>[]).map((s) => Object.keys(s).join()).join() || 'none';
      rows.push(`<tr><td><code>${esc(method.toUpperCase())} ${esc(path)}</code></td><td>${esc(String(op.summary))}</td>
<td>${esc(security)}</td><td>${params}${body ? ` body ${schemaLink(body)}` : ''}</td><td><ul>${responses}</ul></td></tr>`);
    }
  }
  return `<table><tr><th>route</th><th>what</th><th>auth</th><th>input</th><th>answers</th></tr>${rows.join('\n')}</table>`;
}

function realtimeSection(doc: JsonSchema): string {
  const messages = (doc.components as { messages: Record<string, { name: string; summary?: string; payload: JsonSchema }> }).messages;
  const msg = (ref: unknown) => messages[String((ref as { $ref: string }).$ref).split('/').pop()!]!;
  const out: string[] = [];
  for (const [ns, channel] of Object.entries(doc.channels as Record<string, { address: string; description: string }>)) {
    const rows: string[] = [];
    for (const op of Object.values(doc.operations as Record<string, JsonSchema>)) {
      if ((op.channel as { $ref: string }).$ref !== `#/channels/${ns}`) continue;
      const m = msg((op.messages as unknown[])[0]);
      const reply = op.reply ? schemaLink(msg((op.reply as { messages: unknown[] }).messages[0]).payload) : '—';
      const direction = op.action === 'receive' ? 'client → server' : 'server → client';
      rows.push(`<tr><td><code>${esc(m.name)}</code></td><td>${direction}</td><td>${schemaLink(m.payload)}</td><td>${reply}</td><td>${esc(String(op.summary ?? ''))}</td></tr>`);
    }
    out.push(`<h3>Namespace <code>${esc(channel.address)}</code></h3><p>${esc(channel.description)}</p>
<table><tr><th>event</th><th>direction</th><th>payload</th><th>ack</th><th>what</th></tr>${rows.join('\n')}</table>`);
  }
  return out.join('\n');
}

function schemaSection(schemas: Record<string, JsonSchema>): string {
  return Object.entries(schemas)
    .map(([name, schema]) => `<h3 id="schema-${esc(name)}">${esc(name)}</h3><pre>${linkRefs(esc(JSON.stringify(schema, null, 2)))}</pre>`)
    .join('\n');
}

function schemaLink(schema: JsonSchema | undefined): string {
  if (!schema) return '';
  const ref = typeof schema.$ref === 'string' ? schema.$ref.split('/').pop()! : null;
  return ref ? `<a href="#schema-${esc(ref)}">${esc(ref)}</a>` : `<code>${esc(JSON.stringify(schema))}</code>`;
}

/** `"$ref": "#/components/schemas/Room"` inside escaped JSON becomes a link to that schema. */
function linkRefs(escapedJson: string): string {
  return escapedJson.replace(/&#34;#\/components\/schemas\/([A-Za-z0-9._-]+)&#34;/g, '&#34;<a href="#schema-$1">$1</a>&#34;');
}

function esc(value: string): string {
  return value.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** Both documents name the same components; the page shows each once (OpenAPI's 2020-12 form wins). */
function schemasOf(doc: JsonSchema): Record<string, JsonSchema> {
  return (doc.components as { schemas: Record<string, JsonSchema> }).schemas;
}
