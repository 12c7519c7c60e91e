import { io, type Socket } from 'socket.io-client';

/** Connects a real socket.io-client to a namespace and resolves once connected. */
export async function connect(
  baseUrl: string,
  namespace: '/chat' | '/rtc' | string,
  token: string | undefined,
  options: Record<string, unknown> = {},
): Promise<Socket> {
  const socket = io(baseUrl + namespace, {
    path: '/ws',
    transports: ['websocket'],
    auth: token === undefined ? {} : { token },
    reconnection: false,
    forceNew: true,
    ...options,
  });
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('connect timeout')), 5000);
    socket.once('connect', () => (clearTimeout(timer), resolve()));
    socket.once('connect_error', (err) => (clearTimeout(timer), socket.close(), reject(err)));
  });
  return socket;
}

/** The connect_error a refused handshake produces. */
export async function connectError(baseUrl: string, namespace: string, token: string | undefined, options: Record<string, unknown> = {}) {
  try {
    const s = await connect(baseUrl, namespace, token, options);
    s.close();
  } catch (err) {
    return err as Error & { data?: { code: string; message: string } };
  }
  throw new Error('expected the handshake to be refused');
}

/** Emits with an ack and resolves with the answer (rejects after `timeoutMs`). */
export function ask<T = any>(socket: Socket, event: string, payload?: unknown, timeoutMs = 5000): Promise<T> {
  return socket.timeout(timeoutMs).emitWithAck(event, payload) as Promise<T>;
}

/** Resolves with the next `event` whose payload satisfies `match`. */
export function next<T = any>(socket: Socket, event: string, match: (p: T) => boolean = () => true, timeoutMs = 5000): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => (socket.off(event, handler), reject(new Error(`no ${event} within ${timeoutMs} ms`))), timeoutMs);
    const handler = (p: T) => {
      if (!match(p)) return;
      clearTimeout(timer);
      socket.off(event, handler);
      resolve(p);
    };
    socket.on(event, handler);
  });
}

/** Collects every `event` payload the socket receives from now on. */
export function collect<T = any>(socket: Socket, event: string): T[] {
  const seen: T[] = [];
  socket.on(event, (p: T) => seen.push(p));
  return seen;
}

/** Polls `check` until it returns true (no fixed sleeps in tests). */
export async function eventually(check: () => boolean | Promise<boolean>, timeoutMs = 5000, what = 'condition'): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error(`timed out waiting for ${what}`);
}

/** Shows that nothing arrives: waits a short, bounded time and returns what came. */
export async function quietFor<T = any>(socket: Socket, event: string, ms = 300): Promise<T[]> {
  const seen: T[] = [];
  const handler = (p: T) => seen.push(p);
  socket.on(event, handler);
  await new Promise((r) => setTimeout(r, ms));
  socket.off(event, handler);
  return seen;
}
