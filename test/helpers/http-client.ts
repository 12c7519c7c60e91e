/** A small REST client over real HTTP (global fetch). */
export interface HttpResult<T = any> {
  status: number;
  headers: Headers;
  body: T;
}

export async function request<T = any>(
  baseUrl: string,
  method: string,
  path: string,
  options: { token?: string; body?: unknown; rawBody?: string; headers?: Record<string, string> } = {},
): Promise<HttpResult<T>> {
  const headers: Record<string, string> = { ...options.headers };
  if (options.token) headers.authorization = `Bearer ${options.token}`;
  let body: string | undefined;
  if (options.rawBody !== undefined) body = options.rawBody;
  else if (options.body !== undefined) {
    body = JSON.stringify(options.body);
    headers['content-type'] ??= 'application/json';
  }
  const res = await fetch(baseUrl + path, { method, headers, body });
  const text = await res.text();
  let parsed: unknown = text;
  try {
    parsed = text ? JSON.parse(text) : undefined;
  } catch {
    /* not JSON: keep the text */
  }
  return { status: res.status, headers: res.headers, body: parsed as T };
}

export async function guest(baseUrl: string, name = 'tester'): Promise<{ token: string; user: { id: string; name: string } }> {
  const res = await request(baseUrl, 'POST', '/api/auth/guest', { body: { name } });
  if (res.status !== 201) throw new Error(`guest login failed: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body;
}

export async function createRoom(baseUrl: string, token: string, body: Record<string, unknown> = { name: 'room' }) {
  const res = await request(baseUrl, 'POST', '/api/rooms', { token, body });
  if (res.status !== 201) throw new Error(`room creation failed: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body as { id: string; name: string; isPrivate: boolean; maxParticipants: number; lastSeq: number; createdBy: string };
}

/** Prometheus series (name with labels) → value, from a server's /metrics. */
export async function scrapeMetrics(baseUrl: string): Promise<Map<string, number>> {
  const res = await request(baseUrl, 'GET', '/metrics');
  const series = new Map<string, number>();
  for (const line of String(res.body).split('\n')) {
    const m = /^([^#\s][^ ]*) ([0-9.e+-]+)$/.exec(line);
    if (m) series.set(m[1]!, Number(m[2]));
  }
  return series;
}

/**
 * Queue retries because the store was unavailable, summed over `urls` (nodes): the evidence
 * that the persistence consumers met an outage, to poll instead of sleeping through one.
 */
export async function storeUnavailableRetries(urls: string[]): Promise<number> {
  let sum = 0;
  for (const url of urls) {
    for (const [series, n] of await scrapeMetrics(url)) if (series.startsWith('queue_retries_total{') && series.includes('reason="store_unavailable"')) sum += n;
  }
  return sum;
}

/**
 * A room's whole history over REST (`GET /api/messages`, paged by seq cursor), in the order
 * served. Bounded: a server that kept answering `hasMore` would otherwise never end the walk.
 */
export async function roomHistory<M extends { seq: number } = any>(baseUrl: string, token: string, roomId: string, maxPages = 1000): Promise<M[]> {
  const messages: M[] = [];
  for (let after = 0, page = 0; page < maxPages; page++) {
    const res = await request(baseUrl, 'GET', `/api/messages?roomId=${roomId}&after=${after}&limit=100`, { token });
    if (res.status !== 200) throw new Error(`history failed: ${res.status} ${JSON.stringify(res.body)}`);
    messages.push(...res.body.messages);
    if (!res.body.hasMore || res.body.messages.length === 0) return messages;
    after = messages.at(-1)!.seq;
  }
  throw new Error(`history of ${roomId} longer than ${maxPages} pages`);
}
