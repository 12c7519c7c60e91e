import type { Socket as TcpSocket } from 'node:net';
import { io, type Socket } from 'socket.io-client';

/**
 * A socket.io-client socket as an application holds one: reconnection on (quicker than the
 * default so that a faulted soak spends its time sending, not waiting), WebSocket only.
 * `onConnect` runs on every (re)connect with whether the session was recovered; it is how a
 * client gets back into its room or call. Failures of `onConnect` are retried while connected.
 */
export function soakSocket(url: string, namespace: '/chat' | '/rtc', token: string, onConnect: (socket: Socket, recovered: boolean) => Promise<void>): Socket {
  const socket = io(url + namespace, {
    path: '/ws',
    transports: ['websocket'],
    auth: { token },
    forceNew: true,
    reconnectionDelay: 300,
    reconnectionDelayMax: 2000,
  });
  const settle = async () => {
    const recovered = socket.recovered;
    while (socket.connected) {
      try {
        await onConnect(socket, recovered);
        return;
      } catch {
        // UNAVAILABLE during a Redis fault, or no ack: try again while the connection holds.
        await new Promise((r) => setTimeout(r, 300));
      }
    }
  };
  socket.on('connect', () => void settle());
  return socket;
}

/** Asks with an ack and throws unless the answer is `{ok: true}`. */
export async function request(socket: Socket, event: string, payload: unknown, timeoutMs = 3000): Promise<any> {
  const ack = await socket.timeout(timeoutMs).emitWithAck(event, payload);
  if (!ack?.ok) throw new Error(`${event}: ${JSON.stringify(ack?.error ?? ack)}`);
  return ack;
}

/**
 * Cuts the connection under the client as a network fault would: the TCP socket is
 * destroyed (no WebSocket close frame), the client sees a transport error and reconnects,
 * recovering its session. Reaches into engine.io-client's transport (`ws`) and ws's socket.
 */
export function dropTransport(socket: Socket): boolean {
  const transport = socket.io.engine?.transport as unknown as { ws?: { _socket?: TcpSocket } } | undefined;
  const tcp = transport?.ws?._socket;
  if (!tcp || tcp.destroyed) return false;
  tcp.destroy();
  return true;
}
