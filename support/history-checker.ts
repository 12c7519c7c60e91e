/**
 * The Jepsen-style history checker of the fault suites: what the senders were told (acked
 * clientMsgId → seq) against what the store holds and against what each client ended up
 * seeing. Plain functions over plain records, no test framework: the soak script uses it too.
 */

/** What the checker needs of a message (a protocol Message fits). */
export interface CheckedMessage {
  seq: number;
  clientMsgId: string | null;
  id?: string;
}

/** What a sender recorded (ChatSender fits). */
export interface SendRecord {
  readonly attempted: ReadonlySet<string>;
  /** clientMsgId → the seq of its ack, in the order the acks came. */
  readonly acked: ReadonlyMap<string, number>;
  /**
   * clientMsgId → how many of this sender's acks (in `acked` order) had come before it was
   * first sent: those messages were durable first, so their seqs must be lower.
   */
  readonly ackedBeforeAttempt?: ReadonlyMap<string, number>;
  /** clientMsgId → how many times it was sent (first attempt and retries); 1 when absent. */
  readonly attempts?: ReadonlyMap<string, number>;
}

/** How a client came to hold a message. */
export type Delivery = 'live' | 'ack' | 'join' | 'gap-fill' | 'final-walk';

/** Every message of the room one client got, in the order it got them (ClientView fits). */
export interface ClientRecord {
  readonly name: string;
  readonly received: readonly { message: CheckedMessage; via: Delivery }[];
}

export interface CheckInput {
  /** The room's history as the store serves it, in the order served (seq order). */
  stored: readonly CheckedMessage[];
  senders: readonly SendRecord[];
  clients?: readonly ClientRecord[];
  /** clientMsgIds the test sent itself, outside the senders (one-off probes): stored or not, never "unexpected". */
  sentByTest?: (clientMsgId: string) => boolean;
}

export interface ClientReport {
  name: string;
  /** Deliveries of any kind. */
  received: number;
  /** Seqs the server pushed live (`chat:message`) more than once: a client keyed by seq hides them, the checker reports them. */
  liveDuplicates: number[];
  /**
   * Seqs pushed live more times than their sender sent them. A retry that lands on another
   * node than the original repeats the fan-out on purpose (its first one may have died with
   * that node: src/infra/redis/redis-message-log.ts), so a retried message may come twice;
   * a message sent once that arrives twice is a server bug.
   */
  liveBeyondSends: number[];
  /** Acked clientMsgIds not in the client's final view at their acked seq. */
  lost: string[];
  /** clientMsgIds at more than one seq in the view. */
  duplicated: string[];
  /** Seqs from 1 to the store's newest that the view lacks. */
  gaps: number[];
  /** A sender's messages in the view against the order they became durable. */
  outOfOrder: string[];
  /** Seqs where the client holds another message than the store (or got two different ones). */
  mismatched: number[];
  /** Seqs the client had only once it walked the history at the end (never live, never by a catch-up): information. */
  onlyByFinalWalk: number[];
}

export interface HistoryReport {
  acked: number;
  stored: number;
  /** Acked clientMsgIds the store does not hold. */
  lost: string[];
  /** clientMsgIds stored more than once. */
  duplicated: string[];
  /** Stored clientMsgIds nobody sent. */
  unexpected: string[];
  /** Acked clientMsgIds stored at another seq than the ack said. */
  seqMismatch: string[];
  /** Seqs from 1 to the newest stored that are missing. */
  gaps: number[];
  /** History served out of seq order, or a sender's messages against the order they became durable. */
  storeOutOfOrder: string[];
  clients: ClientReport[];
}

export function checkHistory(input: CheckInput): HistoryReport {
  const { stored, senders } = input;
  const attempted = new Set(senders.flatMap((s) => [...s.attempted]));
  const sentByTest = input.sentByTest ?? (() => false);
  const acked = new Map(senders.flatMap((s) => [...s.acked]));
  const storedSeqs = new Map<string, number[]>();
  for (const m of stored) if (m.clientMsgId) storedSeqs.set(m.clientMsgId, [...(storedSeqs.get(m.clientMsgId) ?? []), m.seq]);
  const newest = Math.max(0, ...stored.map((m) => m.seq));
  const servedOrder = stored.flatMap((m, i) => (i > 0 && m.seq <= stored[i - 1]!.seq ? [`seq ${m.seq} served after seq ${stored[i - 1]!.seq}`] : []));
  const bySeq = new Map(stored.map((m) => [m.seq, m]));
  return {
    acked: acked.size,
    stored: stored.length,
    lost: [...acked.keys()].filter((id) => !storedSeqs.has(id)),
    duplicated: [...storedSeqs].filter(([, seqs]) => seqs.length > 1).map(([id]) => id),
    unexpected: [...storedSeqs.keys()].filter((id) => !attempted.has(id) && !sentByTest(id)),
    seqMismatch: [...acked].filter(([id, seq]) => storedSeqs.has(id) && !storedSeqs.get(id)!.includes(seq)).map(([id]) => id),
    gaps: missingSeqs(new Set(bySeq.keys()), newest),
    storeOutOfOrder: [...servedOrder, ...senderOrder(senders, (id) => storedSeqs.get(id)?.[0])],
    clients: (input.clients ?? []).map((c) => checkClient(c, bySeq, acked, senders, newest)),
  };
}

function checkClient(
  client: ClientRecord,
  stored: Map<number, CheckedMessage>,
  acked: Map<string, number>,
  senders: readonly SendRecord[],
  newest: number,
): ClientReport {
  const view = new Map<number, CheckedMessage>();
  const liveCount = new Map<number, number>();
  const conflicting = new Set<number>();
  const beforeWalk = new Set<number>();
  for (const { message, via } of client.received) {
    if (via === 'live') liveCount.set(message.seq, (liveCount.get(message.seq) ?? 0) + 1);
    if (via !== 'final-walk') beforeWalk.add(message.seq);
    const had = view.get(message.seq);
    if (!had) view.set(message.seq, message);
    else if (!sameMessage(had, message)) conflicting.add(message.seq);
  }
  const sends = (m: CheckedMessage) => Math.max(1, ...senders.map((s) => (m.clientMsgId && s.attempts?.get(m.clientMsgId)) || 0));
  const seqsOf = new Map<string, number[]>();
  for (const [seq, m] of view) if (m.clientMsgId) seqsOf.set(m.clientMsgId, [...(seqsOf.get(m.clientMsgId) ?? []), seq]);
  const mismatched = [...view].filter(([seq, m]) => conflicting.has(seq) || (stored.has(seq) && !sameMessage(stored.get(seq)!, m))).map(([seq]) => seq);
  return {
    name: client.name,
    received: client.received.length,
    liveDuplicates: [...liveCount].filter(([, n]) => n > 1).map(([seq]) => seq),
    liveBeyondSends: [...liveCount].filter(([seq, n]) => n > sends(view.get(seq)!)).map(([seq]) => seq),
    lost: [...acked].filter(([id, seq]) => view.get(seq)?.clientMsgId !== id).map(([id]) => id),
    duplicated: [...seqsOf].filter(([, seqs]) => seqs.length > 1).map(([id]) => id),
    gaps: missingSeqs(new Set(view.keys()), newest),
    outOfOrder: senderOrder(senders, (id) => seqsOf.get(id)?.[0]),
    mismatched: mismatched.sort((a, b) => a - b),
    onlyByFinalWalk: [...view.keys()].filter((seq) => !beforeWalk.has(seq)).sort((a, b) => a - b),
  };
}

/** Same id when both have one, else same clientMsgId. */
function sameMessage(a: CheckedMessage, b: CheckedMessage): boolean {
  return a.id !== undefined && b.id !== undefined ? a.id === b.id : a.clientMsgId === b.clientMsgId;
}

function missingSeqs(present: Set<number>, newest: number): number[] {
  const missing: number[] = [];
  for (let seq = 1; seq <= newest; seq++) if (!present.has(seq)) missing.push(seq);
  return missing;
}

/**
 * Session order: a message one sender sent after another one was acked must have the higher
 * seq wherever it is found (`seqOf`). Live arrival order is not checked: across nodes it
 * may legitimately differ from seq order.
 */
function senderOrder(senders: readonly SendRecord[], seqOf: (clientMsgId: string) => number | undefined): string[] {
  const problems: string[] = [];
  for (const sender of senders) {
    // The highest seq among the first k acks, for every k: one pass, not a pair per message.
    const highest: { seq: number; id: string }[] = [{ seq: 0, id: '' }];
    for (const id of sender.acked.keys()) {
      const seq = seqOf(id) ?? 0;
      const top = highest.at(-1)!;
      highest.push(seq > top.seq ? { seq, id } : top);
    }
    for (const [id, before] of sender.ackedBeforeAttempt ?? []) {
      const seq = seqOf(id);
      const top = highest[Math.min(before, highest.length - 1)]!;
      if (seq !== undefined && top.seq >= seq) problems.push(`${id} (seq ${seq}) not after ${top.id} (seq ${top.seq})`);
    }
  }
  return problems;
}

/** How many of each figure, one line for a test's log. */
export function figures(report: HistoryReport): string {
  const sum = (f: (c: ClientReport) => unknown[]) => report.clients.reduce((n, c) => n + f(c).length, 0);
  return (
    `${report.acked} acked, ${report.stored} stored; store: ${report.lost.length} lost, ${report.duplicated.length} duplicated, ` +
    `${report.unexpected.length} unexpected, ${report.seqMismatch.length} at another seq, ${report.gaps.length} gaps, ` +
    `${report.storeOutOfOrder.length} out of order; ${report.clients.length} clients: ${sum((c) => c.lost)} lost, ` +
    `${sum((c) => c.duplicated)} duplicated, ${sum((c) => c.gaps)} gaps, ${sum((c) => c.outOfOrder)} out of order, ` +
    `${sum((c) => c.mismatched)} mismatched, ${sum((c) => c.liveDuplicates)} live duplicates (${sum((c) => c.liveBeyondSends)} beyond the sends), ` +
    `${sum((c) => c.onlyByFinalWalk)} only by the final walk`
  );
}

/** Offenders shown per figure: enough to start from, short enough to read. */
const SHOWN = 20;

/**
 * Which figures may be non-zero: `liveBeyondSends` (a wire duplicate, which clients drop by
 * seq) when a suite knows of a cause it has not fixed yet and says so where it passes this.
 */
export interface Tolerance {
  liveBeyondSends?: boolean;
}

/** Every non-zero figure that must be zero, with its offending clientMsgIds or seqs. */
export function problems(report: HistoryReport, tolerate: Tolerance = {}): string[] {
  const out: string[] = [];
  const add = (what: string, items: readonly unknown[]) => {
    if (items.length) out.push(`${what}: ${items.length} (${items.slice(0, SHOWN).join(', ')}${items.length > SHOWN ? ', …' : ''})`);
  };
  add('acked but not stored', report.lost);
  add('stored more than once', report.duplicated);
  add('stored but never sent', report.unexpected);
  add('stored at another seq than acked', report.seqMismatch);
  add('seq gaps in the store', report.gaps);
  add('store out of order', report.storeOutOfOrder);
  for (const c of report.clients) {
    add(`${c.name}: acked but not in its view`, c.lost);
    add(`${c.name}: at two seqs in its view`, c.duplicated);
    add(`${c.name}: seq gaps in its view`, c.gaps);
    add(`${c.name}: out of order in its view`, c.outOfOrder);
    add(`${c.name}: another message than the store at seq`, c.mismatched);
    if (!tolerate.liveBeyondSends) add(`${c.name}: pushed live more often than sent`, c.liveBeyondSends);
  }
  return out;
}

/** For tests: throws with every problem listed unless all figures are zero. */
export function expectClean(report: HistoryReport, tolerate: Tolerance = {}): void {
  const found = problems(report, tolerate);
  if (found.length) throw new Error(`history check failed (${figures(report)}):\n  ${found.join('\n  ')}`);
}
