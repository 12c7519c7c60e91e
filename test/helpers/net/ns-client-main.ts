/**
 * A chat and call client as a process of its own, so that it can live in a test host's
 * namespace (test/helpers/net) and lose its network. It behaves as README asks of a client:
 * one connection for /chat and /rtc, reconnecting by itself; a session Socket.IO did not
 * recover rejoins the room with lastSeq, and the call is joined again after every connect.
 * It reports what happens as JSON lines on stdout and obeys one-word commands on stdin.
 */
import { createInterface } from 'node:readline';
import { Manager } from 'socket.io-client';

const { url, token, roomId } = JSON.parse(process.argv[2]!) as { url: string; token: string; roomId: string };
const report = (line: Record<string, unknown>) => process.stdout.write(`${JSON.stringify({ ...line, at: Date.now() })}\n`);

// timeout: a reconnect attempt whose SYN vanished is abandoned after 2 s and the next one
// tried, instead of waiting out the default 20 s once the network is back.
const manager = new Manager(url, { path: '/ws', transports: ['websocket'], reconnectionDelay: 200, reconnectionDelayMax: 1000, timeout: 2000 });
const chat = manager.socket('/chat', { auth: { token } });
const rtc = manager.socket('/rtc', { auth: { token } });
const seqs = new Set<number>();
const highest = () => Math.max(0, ...seqs);

chat.on('chat:message', (m: { seq: number }) => seqs.add(m.seq));
chat.on('connect', () => {
  report({ type: 'connect', ns: '/chat', id: chat.id, recovered: chat.recovered, localPort: localPort() });
  if (chat.recovered) return;
  void chat
    .timeout(5000)
    .emitWithAck('room:join', { roomId, lastSeq: highest() })
    .then((res: { ok: boolean; messages?: { seq: number }[] }) => {
      res.messages?.forEach((m) => seqs.add(m.seq));
      report({ type: 'joined', ok: res.ok });
    })
    .catch((err: Error) => report({ type: 'join-failed', err: err.message }));
});
rtc.on('connect', () => {
  void rtc
    .timeout(5000)
    .emitWithAck('call:join', { roomId })
    .then((res: { ok: boolean; peerId?: string }) => report({ type: 'in-call', ok: res.ok, peerId: res.peerId }))
    .catch((err: Error) => report({ type: 'call-join-failed', err: err.message }));
});
for (const [ns, s] of [['/chat', chat], ['/rtc', rtc]] as const) s.on('disconnect', (reason) => report({ type: 'disconnect', ns, reason }));

/** The TCP source port of the current connection (ws's private `_socket`: a test needs it to cut just this one). */
function localPort(): number | undefined {
  const transport = manager.engine?.transport as unknown as { ws?: { _socket?: { localPort?: number } } } | undefined;
  return transport?.ws?._socket?.localPort;
}

createInterface({ input: process.stdin }).on('line', (cmd) => {
  if (cmd === 'seqs') report({ type: 'seqs', seqs: [...seqs].sort((a, b) => a - b) });
  // The client's own network changed: it gives up the connection at once and dials again,
  // while the server still holds the old one (socket.io#4880).
  else if (cmd === 'drop') manager.engine.close();
  else if (cmd === 'exit') process.exit(0);
});
