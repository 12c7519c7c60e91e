/**
 * Who you are and how to reach the server: a guest token per tab, the REST calls the demo
 * needs, and the Socket.IO options every namespace shares.
 */
import { io, type Socket } from 'socket.io-client';
import {
  DEFAULT_SOCKET_PATH,
  type ErrorBody,
  type Message,
  type Participant,
  type Payload,
  type Room,
  type RoomRole,
} from 'fault-tolerant-video-chat-server/protocol';

/** The token lives in sessionStorage: each tab is its own guest, and a reload keeps it. */
const TOKEN_KEY = 'vc:token';

/** `GET /api/rooms/:id`: the room, my role in it (null for a visitor) and who is online. */
export type RoomDetails = Room & { role: RoomRole | null; participants: Participant[] };

/** `GET /api/messages/search`: the best matches first, and whether more matched than were sent. */
export interface SearchPage {
  messages: Message[];
  hasMore: boolean;
}

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly body: ErrorBody,
  ) {
    super(body.message);
  }
}

export class Session {
  constructor(public name: string) {}

  /** A valid token: the stored one while it has a minute left, else a fresh guest token. */
  async token(): Promise<string> {
    const stored = readJson<{ token: string; name: string }>(sessionStorage, TOKEN_KEY);
    if (stored && stored.name === this.name && expiresAt(stored.token) > Date.now() + 60_000) return stored.token;
    const { token } = await api<{ token: string }>('POST', '/api/auth/guest', undefined, { name: this.name });
    writeJson(sessionStorage, TOKEN_KEY, { token, name: this.name });
    return token;
  }

  /** The user id in the stored token (the server's `hello` says the same on every connect). */
  get userId(): string {
    const stored = readJson<{ token: string }>(sessionStorage, TOKEN_KEY);
    return stored ? (claims(stored.token).sub ?? '') : '';
  }

  /** Drops the token after the server refused it; the next connect fetches a new one. */
  forget(): void {
    sessionStorage.removeItem(TOKEN_KEY);
  }

  async createRoom(name: string): Promise<Room> {
    return api('POST', '/api/rooms', await this.token(), { name });
  }

  async room(id: string): Promise<RoomDetails> {
    return api('GET', `/api/rooms/${encodeURIComponent(id)}`, await this.token());
  }

  /** Owners and moderators: change the room's settings (`locked`, `lobby`, …). */
  async updateRoom(id: string, changes: Payload<'updateRoom'>): Promise<Room> {
    return api('PATCH', `/api/rooms/${encodeURIComponent(id)}`, await this.token(), changes);
  }

  /** Messages of the room whose current text holds every word of `q`, ranked by the server. */
  async search(roomId: string, q: string): Promise<SearchPage> {
    return api('GET', `/api/messages/search?${new URLSearchParams({ roomId, q })}`, await this.token());
  }

  /**
   * A socket on one namespace. The token is read on every (re)connect, so an expired one is
   * replaced; a refused handshake (`UNAUTHORIZED`, `TOO_MANY_CONNECTIONS`, …) is not retried by
   * Socket.IO itself, so we retry after a pause.
   */
  socket<S extends object, C extends object>(namespace: string): Socket<S, C> {
    const socket: Socket<S, C> = io(namespace, {
      path: DEFAULT_SOCKET_PATH,
      transports: ['websocket', 'polling'],
      tryAllTransports: true,
      auth: (cb) => void this.token().then((token) => cb({ token }), () => cb({})),
    });
    const retry = (ms = 1000) => setTimeout(() => socket.connect(), ms + Math.random() * 2000);
    socket.on('connect_error', (err) => {
      if (err.message === 'UNAUTHORIZED') this.forget();
      if (!socket.active) retry((err as { data?: { retryAfterMs?: number } }).data?.retryAfterMs);
    });
    socket.on('disconnect', (reason) => {
      if (reason === 'io server disconnect') retry(); // e.g. after `auth:expired`
    });
    (socket as unknown as Socket).on('auth:expired', () => this.forget());
    return socket;
  }
}

async function api<T>(method: string, path: string, token?: string, body?: unknown): Promise<T> {
  const headers: Record<string, string> = {};
  if (token) headers.authorization = `Bearer ${token}`;
  if (body !== undefined) headers['content-type'] = 'application/json';
  const res = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  const json = await res.json().catch(() => ({}));
  if (!res.ok) throw new ApiError(res.status, json.error ?? { code: 'INTERNAL', message: res.statusText });
  return json as T;
}

/** The JWT payload, read without verifying it (the server does that). */
function claims(token: string): { sub?: string; exp?: number } {
  try {
    const part = token.split('.')[1] ?? '';
    return JSON.parse(atob(part.replace(/-/g, '+').replace(/_/g, '/')));
  } catch {
    return {};
  }
}

function expiresAt(token: string): number {
  return (claims(token).exp ?? 0) * 1000;
}

export function readJson<T>(storage: Storage, key: string): T | null {
  try {
    return JSON.parse(storage.getItem(key) ?? 'null') as T | null;
  } catch {
    return null;
  }
}

/** Storage can be full or disabled (private mode): the demo then just forgets more. */
export function writeJson(storage: Storage, key: string, value: unknown): void {
  try {
    storage.setItem(key, JSON.stringify(value));
  } catch {
    /* best effort */
  }
}
