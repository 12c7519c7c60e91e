import { createClient } from 'redis';
import type { ServerProc } from '../lib/server-proc.js';

/**
 * Per-connection state that must be gone once every client has left: Redis's presence,
 * call peers and connection slots (per room, per node, per user and address), and each
 * node's open-socket gauge. Key patterns from src/infra/redis/redis-keys.ts.
 */
const PATTERNS = ['chat:*:presence', 'chat:*:users', 'call:*:peers', 'node:*:presence-rooms', 'node:*:call-rooms', 'node:*:connections', 'conn:user:*', 'conn:ip:*'];

export interface Leftovers {
  /** pattern → entries (members of sets and hashes, 1 per string key). */
  redis: Record<string, number>;
  /** node → open sockets by namespace, from /metrics. */
  sockets: Record<string, number>;
  total: number;
  /** A few of the leftover entries, to name what stayed. */
  examples: string[];
}

async function redisEntries(url: string, examples: string[]): Promise<Record<string, number>> {
  const client = createClient({ url });
  client.on('error', () => undefined);
  await client.connect();
  try {
    const out: Record<string, number> = {};
    for (const pattern of PATTERNS) {
      let n = 0;
      for await (const batch of client.scanIterator({ MATCH: pattern, COUNT: 500 })) {
        for (const key of batch) {
          const type = await client.type(key);
          const members = type === 'set' ? await client.sMembers(key) : type === 'hash' ? await client.hKeys(key) : [key];
          n += members.length;
          if (examples.length < 8) examples.push(`${key}: ${members.slice(0, 2).join(', ')}`);
        }
      }
      out[pattern] = n;
    }
    return out;
  } finally {
    client.destroy();
  }
}

async function openSockets(node: ServerProc): Promise<number> {
  const text = await (await fetch(`${node.url}/metrics`, { signal: AbortSignal.timeout(5000) })).text();
  let n = 0;
  for (const m of text.matchAll(/^socket_connections\{[^}]*\} (\d+)/gm)) n += Number(m[1]);
  return n;
}

export async function leftovers(redisUrl: string, nodes: ServerProc[]): Promise<Leftovers> {
  const examples: string[] = [];
  const redis = await redisEntries(redisUrl, examples);
  const sockets: Record<string, number> = {};
  for (const node of nodes) sockets[node.label] = await openSockets(node);
  const total = Object.values(redis).reduce((a, b) => a + b, 0) + Object.values(sockets).reduce((a, b) => a + b, 0);
  return { redis, sockets, total, examples };
}

/** Polls until nothing is left or `timeoutMs` passes (a dead node's entries take its heartbeat timeout). */
export async function leftoversAfter(redisUrl: string, nodes: ServerProc[], timeoutMs: number): Promise<Leftovers & { waitedMs: number }> {
  const t0 = Date.now();
  for (;;) {
    const l = await leftovers(redisUrl, nodes);
    if (l.total === 0 || Date.now() - t0 > timeoutMs) return { ...l, waitedMs: Date.now() - t0 };
    await new Promise((r) => setTimeout(r, 500));
  }
}
