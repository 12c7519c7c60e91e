import type { Socket } from 'socket.io-client';
import { ChatSender } from '../../support/chat-sender.js';
import { eventually } from './socket-client.js';

// The sender is shared with the soak (bench/soak), hence in support/.
export { ChatSender, type ChatSenderOptions } from '../../support/chat-sender.js';

/**
 * One ChatSender per socket, sending all along: until TRAFFIC_BEFORE messages are acked, then
 * while `fault` runs, then until TRAFFIC_AFTER more are acked; returns the senders for the checker.
 */
export async function underTraffic(sockets: Socket[], roomId: string, fault: (senders: ChatSender[]) => Promise<void>, ackTimeoutMs?: number): Promise<ChatSender[]> {
  let stopping = false;
  const senders = sockets.map((s, i) => new ChatSender(s, roomId, `c${i}`, { ackTimeoutMs }));
  const running = senders.map((s) => s.run(() => stopping));
  const acked = () => senders.reduce((n, s) => n + s.acked.size, 0);
  try {
    // Evidence, not fixed windows: traffic is flowing before the fault, and acks resume after
    // it (a slow machine gets more time instead of a test with too few messages to mean anything).
    await eventually(() => acked() >= TRAFFIC_BEFORE, 15_000, `${TRAFFIC_BEFORE} acks before the fault`);
    await fault(senders);
    const atHeal = acked();
    await eventually(() => acked() >= atHeal + TRAFFIC_AFTER, 20_000, `${TRAFFIC_AFTER} more acks after the fault`);
  } finally {
    stopping = true;
    await Promise.all(running);
  }
  return senders;
}

/** Acks to see before a fault and after it: together more than any suite's "acked > 20". */
const TRAFFIC_BEFORE = 10;
const TRAFFIC_AFTER = 15;

/** Sends the senders have been refused or left unanswered so far: the evidence that a fault reached them. */
export function refusals(senders: ChatSender[]): number {
  return senders.reduce((n, s) => n + [...s.errors.values()].reduce((a, b) => a + b, 0), 0);
}
