import { io, type Socket } from 'socket.io-client';

/** A fixed delay before the first reconnect attempt (no jitter): a known "away" window. */
export const RECONNECT_DELAY_MS = 500;

/**
 * A client as apps build it (reconnection on, WebSocket transport) behind a load balancer:
 * each reconnect attempt goes to the next URL of the list, as a balancer would send a new
 * connection to another node. With one URL it always returns to the same node. The list is
 * read at each attempt, so a test may replace the URL of a node that came back on a new port.
 */
export function balancedClient(urls: readonly string[], namespace: '/chat' | '/rtc', token: string, reconnectionDelay = RECONNECT_DELAY_MS): Socket {
  const socket = io(urls[0] + namespace, {
    path: '/ws',
    transports: ['websocket'],
    auth: { token },
    forceNew: true,
    reconnectionDelay,
    reconnectionDelayMax: Math.max(reconnectionDelay, 2000),
    randomizationFactor: 0,
  });
  let current = 0;
  socket.io.on('reconnect_attempt', () => {
    current = (current + 1) % urls.length;
    pointAt(socket, urls[current]! + namespace);
  });
  return socket;
}

/**
 * Points the socket's next connection at another node. The socket keeps its session id and
 * stream offset (`pid`, `offset` in the CONNECT packet), so `socket.connect()` afterwards is
 * what a client does when it reconnects through a balancer: it asks to recover there.
 */
export function pointAt(socket: Socket, url: string): void {
  // The Manager builds each new engine from `uri`: this is where the next node is chosen.
  (socket.io as unknown as { uri: string }).uri = url;
}
