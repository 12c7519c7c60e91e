import { randomBytes } from 'node:crypto';
import { connect, type Socket } from 'node:net';

/** What a raw TCP exchange got back: the HTTP status line (if any), all bytes as text, and whether the server closed. */
export interface RawReply {
  status: number | null;
  text: string;
  closed: boolean;
}

/**
 * Writes `bytes` to the server over a bare TCP connection and collects the reply until the
 * server closes or `timeoutMs` passes. For requests no HTTP client would send.
 */
export function rawExchange(port: number, bytes: string | Buffer, timeoutMs = 2000): Promise<RawReply> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port });
    const chunks: Buffer[] = [];
    let closed = false;
    const finish = () => {
      clearTimeout(timer);
      socket.destroy();
      const text = Buffer.concat(chunks).toString('latin1');
      const match = /^HTTP\/1\.[01] (\d{3})/.exec(text);
      resolve({ status: match ? Number(match[1]) : null, text, closed });
    };
    const timer = setTimeout(finish, timeoutMs);
    socket.on('data', (d) => chunks.push(d));
    socket.on('error', () => undefined);
    socket.on('close', () => {
      closed = true;
      finish();
    });
    socket.write(bytes);
  });
}

/** A WebSocket upgrade request for the Engine.IO endpoint, with extra header lines. */
export function upgradeRequest(port: number, extra: string[] = [], path = '/ws/?EIO=4&transport=websocket'): string {
  return [
    `GET ${path} HTTP/1.1`,
    `Host: 127.0.0.1:${port}`,
    'Upgrade: websocket',
    'Connection: Upgrade',
    ...extra,
    `Sec-WebSocket-Key: ${randomBytes(16).toString('base64')}`,
    'Sec-WebSocket-Version: 13',
    '',
    '',
  ].join('\r\n');
}

/** One client-to-server WebSocket frame (masked, as clients must), with chosen first-byte bits. */
export function wsFrame(payload: Buffer, firstByte = 0x81): Buffer {
  const mask = randomBytes(4);
  const masked = Buffer.from(payload.map((b, i) => b ^ mask[i % 4]!));
  if (payload.length >= 126) throw new Error('wsFrame: short payloads only');
  return Buffer.concat([Buffer.from([firstByte, 0x80 | payload.length]), mask, masked]);
}

/** Completes a WebSocket upgrade over bare TCP and resolves with the socket (after the 101 and the Engine.IO open). */
export function rawWebSocket(port: number, timeoutMs = 2000): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port });
    let seen = '';
    const timer = setTimeout(() => (socket.destroy(), reject(new Error('no upgrade'))), timeoutMs);
    const onData = (d: Buffer) => {
      seen += d.toString('latin1');
      // The 101 and the Engine.IO open packet ("0{…") may arrive together or apart.
      if (seen.includes('\r\n\r\n') && seen.includes('0{"sid"')) {
        clearTimeout(timer);
        socket.off('data', onData);
        if (!seen.startsWith('HTTP/1.1 101')) return reject(new Error(seen.slice(0, 80)));
        resolve(socket);
      }
    };
    socket.on('data', onData);
    socket.on('error', reject);
    socket.write(upgradeRequest(port));
  });
}
