/**
 * The set-up every rig does against a server under test: guest tokens and rooms over its HTTP
 * API, then sockets connected, authenticated and joined.
 */
import type { ServerProc } from './server-proc.js';
import { connectMany, randomLocalAddress, SioClient } from './sio-client.js';

export interface Guest {
  token: string;
  id: string;
  name: string;
}

async function post(url: string, body: unknown, token?: string): Promise<any> {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify(body),
  });
  if (res.status !== 201) throw new Error(`POST ${url}: ${res.status} ${await res.text()}`);
  return res.json();
}

/** `count` guests from POST /api/auth/guest (20 requests in flight). */
export async function guests(server: { url: string }, count: number): Promise<Guest[]> {
  const { ok, errors } = await connectMany(count, 20, async (i) => {
    const { token, user } = await post(`${server.url}/api/auth/guest`, { name: `bench${i}` });
    return { token, id: user.id as string, name: user.name as string };
  });
  if (errors.length) throw new Error(`guest tokens: ${errors[0]}`);
  return ok;
}

/** `count` public rooms from POST /api/rooms, created by `owner`. */
export async function rooms(server: { url: string }, owner: Guest, count: number): Promise<string[]> {
  const { ok, errors } = await connectMany(count, 20, async (i) => (await post(`${server.url}/api/rooms`, { name: `bench-room-${i}` }, owner.token)).id as string);
  if (errors.length) throw new Error(`rooms: ${errors[0]}`);
  return ok;
}

export function connect(
  server: ServerProc | { port: number },
  nsp: '/chat' | '/rtc',
  token: string,
  extra: { trackOffset?: boolean; auth?: Record<string, unknown>; onEvent?: (frame: Buffer, client: SioClient) => void } = {},
): Promise<SioClient> {
  return SioClient.connect({
    host: '127.0.0.1',
    port: server.port,
    nsp,
    auth: { token, ...extra.auth },
    ...(process.env.NO_LOCAL_ADDR ? {} : { localAddress: randomLocalAddress() }),
    trackOffset: extra.trackOffset ?? false,
    ...(extra.onEvent ? { onEvent: extra.onEvent } : {}),
  });
}

/** Joins a /chat room and checks the ack. */
export async function joinRoom(client: SioClient, roomId: string, lastSeq?: number): Promise<any> {
  const ack = await client.request('room:join', lastSeq === undefined ? { roomId } : { roomId, lastSeq });
  if (!ack?.ok) throw new Error(`room:join refused: ${JSON.stringify(ack)}`);
  return ack;
}

export async function joinCall(client: SioClient, roomId: string): Promise<string> {
  const ack = await client.request('call:join', { roomId });
  if (!ack?.ok) throw new Error(`call:join refused: ${JSON.stringify(ack)}`);
  return ack.peerId as string;
}

export function closeAll(clients: SioClient[]): void {
  for (const c of clients) c.terminate();
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
