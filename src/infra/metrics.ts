import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { ModerationAction, OperatorMetrics, ServerMetrics } from '../ports/metrics.js';

/** What the webhook dispatcher counts (labels are closed sets: event types, failure kinds). */
export interface WebhookMetrics {
  delivered: Counter<'type'>;
  failedAttempts: Counter<'reason'>;
  deadLettered: Counter;
  /** Seconds from sending a request to its answer (or its failure). */
  latency: Histogram<'outcome'>;
}

export interface QueueMetrics {
  persisted: Counter;
  retries: Counter<'reason'>;
  deadLettered: Counter;
  dropped: Counter;
}

/**
 * Prometheus metrics of one server instance. Each instance has its own registry, so several
 * nodes can run in one test process without sharing counters.
 */
export class PrometheusMetrics implements ServerMetrics, OperatorMetrics {
  readonly registry = new Registry();
  private readonly httpRequests = new Counter({
    name: 'http_requests_total',
    help: 'REST requests by method, route and status',
    labelNames: ['method', 'route', 'status'] as const,
    registers: [this.registry],
  });
  private readonly socketConnections = new Gauge({
    name: 'socket_connections',
    help: 'Open Socket.IO connections by namespace',
    labelNames: ['namespace'] as const,
    registers: [this.registry],
  });
  /**
   * Per-message and per-event counts are plain numbers, handed to prom-client when it is
   * scraped: its inc() hashes the labels and allocates on every call, measurable on the
   * relay and chat hot paths.
   */
  private readonly tallies = { accepted: { n: 0, reported: 0 }, delivered: { n: 0, reported: 0 } };
  private readonly socketEventTallies = new Map<string, { labels: { event: string; code: string }; n: number; reported: number }>();
  private readonly messagesAccepted: Counter = new Counter({
    name: 'chat_messages_accepted_total',
    help: 'Chat messages made durable and acknowledged',
    registers: [this.registry],
    collect: (): void => reportTally(this.messagesAccepted, this.tallies.accepted),
  });
  private readonly messagesDelivered: Counter = new Counter({
    name: 'chat_messages_delivered_total',
    help: 'Chat messages fanned out to rooms',
    registers: [this.registry],
    collect: (): void => reportTally(this.messagesDelivered, this.tallies.delivered),
  });
  private readonly socketEvents: Counter<'event' | 'code'> = new Counter({
    name: 'socket_events_total',
    help: 'Inbound Socket.IO events by event and outcome code',
    labelNames: ['event', 'code'] as const,
    registers: [this.registry],
    collect: (): void => {
      for (const tally of this.socketEventTallies.values()) reportTally(this.socketEvents, tally, tally.labels);
    },
  });

  messageAccepted(): void {
    this.tallies.accepted.n++;
  }

  messageDelivered(): void {
    this.tallies.delivered.n++;
  }

  sendAcked(seconds: number): void {
    this.ackLatency.observe(seconds);
  }

  socketOpened(namespace: string): void {
    this.socketConnections.inc({ namespace });
  }

  socketClosed(namespace: string): void {
    this.socketConnections.dec({ namespace });
  }

  httpRequest(method: string, route: string, status: number): void {
    this.httpRequests.inc({ method, route, status: String(status) });
  }

  async render(): Promise<{ contentType: string; body: string }> {
    return { contentType: this.registry.contentType, body: await this.registry.metrics() };
  }

  /** Counts one handled inbound event (names and codes are closed sets: known routes, error codes). */
  moderationAction(action: ModerationAction): void {
    this.moderation.inc({ action });
  }

  socketEvent(event: string, code: string): void {
    const key = `${event} ${code}`;
    const tally = this.socketEventTallies.get(key);
    if (tally) tally.n++;
    else this.socketEventTallies.set(key, { labels: { event, code }, n: 1, reported: 0 });
  }

  private readonly operator = {
    disconnects: new Counter({ name: 'operator_disconnects_total', help: 'User disconnects by the operator API', registers: [this.registry] }),
    disconnectedSockets: new Counter({ name: 'operator_disconnected_sockets_total', help: 'Sockets closed by operator disconnects, cluster-wide', registers: [this.registry] }),
    revocations: new Counter({ name: 'operator_token_revocations_total', help: "Revocations of a user's tokens by the operator API", registers: [this.registry] }),
    systemMessages: new Counter({ name: 'operator_system_messages_total', help: 'Operator messages sent to rooms', registers: [this.registry] }),
  };

  operatorDisconnect(sockets: number): void {
    this.operator.disconnects.inc();
    this.operator.disconnectedSockets.inc(sockets);
  }

  tokensRevoked(): void {
    this.operator.revocations.inc();
  }

  systemMessageSent(): void {
    this.operator.systemMessages.inc();
  }

  private readonly ackLatency = new Histogram({
    name: 'chat_ack_latency_seconds',
    help: 'Time from receiving chat:send to its ack',
    buckets: [0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [this.registry],
  });

  readonly queue: QueueMetrics = {
    persisted: new Counter({ name: 'queue_persisted_total', help: 'Queued messages written to the store', registers: [this.registry] }),
    retries: new Counter({
      name: 'queue_retries_total',
      help: 'Queue persistence retries by reason',
      labelNames: ['reason'] as const,
      registers: [this.registry],
    }),
    deadLettered: new Counter({ name: 'queue_dead_lettered_total', help: 'Entries moved to the dead-letter stream', registers: [this.registry] }),
    dropped: new Counter({ name: 'queue_dropped_total', help: 'Entries dropped because their room was deleted while they were queued', registers: [this.registry] }),
  };

  private readonly adapterPublishFailures = new Counter({
    name: 'adapter_publish_failures_total',
    help: 'Broadcasts the Socket.IO adapter could not publish to Redis (delivered on this node only), by reason: queue_full, deadline, error',
    labelNames: ['reason'] as const,
    registers: [this.registry],
  });

  /** A broadcast reached this node's sockets only (see withPublishDeadline). */
  adapterPublishFailed(reason: string): void {
    this.adapterPublishFailures.inc({ reason });
  }

  private readonly moderation = new Counter({
    name: 'moderation_actions_total',
    help: 'Moderation actions that took effect, by action',
    labelNames: ['action'] as const,
    registers: [this.registry],
  });

  readonly webhooks: WebhookMetrics = {
    delivered: new Counter({ name: 'webhook_delivered_total', help: 'Webhook deliveries a receiver accepted (2xx), by event type', labelNames: ['type'] as const, registers: [this.registry] }),
    failedAttempts: new Counter({
      name: 'webhook_failed_attempts_total',
      help: 'Webhook delivery attempts that failed, by kind: status (non-2xx), timeout, network',
      labelNames: ['reason'] as const,
      registers: [this.registry],
    }),
    deadLettered: new Counter({ name: 'webhook_dead_lettered_total', help: 'Webhook deliveries given up after WEBHOOK_MAX_ATTEMPTS', registers: [this.registry] }),
    latency: new Histogram({
      name: 'webhook_delivery_seconds',
      help: 'Time from sending a webhook request to its answer or failure, by outcome',
      labelNames: ['outcome'] as const,
      buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      registers: [this.registry],
    }),
  };

  constructor(nodeId: string) {
    this.registry.setDefaultLabels({ node: nodeId });
    collectDefaultMetrics({ register: this.registry, eventLoopMonitoringPrecision: 20 });
  }

  /** Queue gauges, read from the queue whenever /metrics is scraped. */
  observeQueue(read: () => Promise<{ depth: number; pending: number; deadLetters: number }>): void {
    this.gaugeFamily(read, {
      queue_depth: ['Entries in the persistence queue', (f) => f.depth],
      queue_pending: ['Queue entries read by a consumer and not yet acknowledged', (f) => f.pending],
      queue_dead_letters: ['Entries in the dead-letter stream', (f) => f.deadLetters],
    });
  }

  /** Webhook outbox gauges, read when /metrics is scraped (webhooks on only). */
  observeWebhookOutbox(read: () => Promise<{ pending: number; deadLetters: number }>): void {
    this.gaugeFamily(read, {
      webhook_queue_depth: ['Webhook deliveries waiting or in flight', (f) => f.pending],
      webhook_dead_letters: ['Webhook deliveries given up, kept for the operator', (f) => f.deadLetters],
    });
  }

  /** Gauges set at each scrape from one read of `read` (see scrapeRead), each picking its figure. */
  private gaugeFamily<T>(read: () => Promise<T>, gauges: Record<string, [help: string, pick: (figures: T) => number]>): void {
    const figures = scrapeRead(read);
    for (const [name, [help, pick]] of Object.entries(gauges)) {
      new Gauge({
        name,
        help,
        registers: [this.registry],
        async collect() {
          const f = await figures();
          if (f) this.set(pick(f));
        },
      });
    }
  }

  /** 0 closed, 1 half-open, 2 open, per dependency. */
  observeBreaker(breaker: { name: string; state: 'closed' | 'open' | 'half-open' }): void {
    this.breakerGauge.labels(breaker.name).set(0);
    this.breakers.push(breaker);
  }

  private readonly breakers: { name: string; state: 'closed' | 'open' | 'half-open' }[] = [];
  private readonly breakerGauge: Gauge<'dependency'> = (() => {
    const breakers = () => this.breakers;
    return new Gauge({
      name: 'circuit_breaker_state',
      help: 'Circuit breaker state per dependency: 0 closed, 1 half-open, 2 open',
      labelNames: ['dependency'] as const,
      registers: [this.registry],
      collect() {
        for (const b of breakers()) this.labels(b.name).set(b.state === 'open' ? 2 : b.state === 'half-open' ? 1 : 0);
      },
    });
  })();
}

/** Moves a counter up by what was tallied since the last scrape. */
function reportTally<L extends string>(counter: Counter<L>, tally: { n: number; reported: number }, labels?: Partial<Record<L, string>>): void {
  const delta = tally.n - tally.reported;
  if (delta === 0) return;
  tally.reported = tally.n;
  if (labels) counter.inc(labels, delta);
  else counter.inc(delta);
}

/** How long a scrape waits for a gauge's figures from Redis or the store. */
const SCRAPE_READ_DEADLINE_MS = 1000;

/**
 * A gauge family's read as a scrape takes it: one read shared by the family's gauges (they
 * are collected together), null when it fails or outlasts SCRAPE_READ_DEADLINE_MS. With Redis
 * paused a read waits on a silent connection, and /metrics must still answer well within a
 * Prometheus scrape timeout: a gauge keeps its last value instead.
 */
function scrapeRead<T>(read: () => Promise<T>): () => Promise<T | null> {
  let current: Promise<T | null> | null = null;
  return () => {
    current ??= new Promise<T | null>((resolve) => {
      const timer = setTimeout(() => resolve(null), SCRAPE_READ_DEADLINE_MS);
      read().then(resolve, () => resolve(null)).finally(() => clearTimeout(timer));
    }).finally(() => setImmediate(() => (current = null)));
    return current;
  };
}
