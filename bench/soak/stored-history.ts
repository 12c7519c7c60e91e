import type { CheckedMessage as StoredMessage } from '../../support/history-checker.js';

/** A room's whole history over REST (`GET /api/messages`, pages of 100 by the `after` cursor). */
export async function storedHistory(baseUrl: string, token: string, roomId: string): Promise<StoredMessage[]> {
  const out: StoredMessage[] = [];
  let after = 0;
  for (;;) {
    const res = await fetch(`${baseUrl}/api/messages?roomId=${encodeURIComponent(roomId)}&after=${after}&limit=100`, {
      headers: { authorization: `Bearer ${token}` },
      signal: AbortSignal.timeout(10_000),
    });
    if (res.status !== 200) throw new Error(`history of ${roomId}: ${res.status} ${await res.text()}`);
    const page = (await res.json()) as { messages: StoredMessage[]; hasMore: boolean };
    out.push(...page.messages.map((m) => ({ seq: m.seq, clientMsgId: m.clientMsgId })));
    if (!page.hasMore || page.messages.length === 0) return out;
    after = page.messages.at(-1)!.seq;
  }
}
