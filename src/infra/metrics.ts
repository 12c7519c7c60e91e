import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/**
 * Prometheus metrics of one server instance. Each instance has its own registry, so several
 * nodes can run in one test process without sharing counters.
 */
export class Metrics {
  readonly registry = new Registry();
  readonly httpRequests = new Counter({
    name: 'http_requests_total',
    help: 'REST requests by method, route and status',
    labelNames: ['method', 'route', 'status'] as const,
    registers: [this.registry],
  });
  readonly socketConnections = new Gauge({
    name: 'socket_connections',
    help: 'Open Socket.IO connections by namespace',
    labelNames: ['namespace'] as const,
    registers: [this.registry],
  });
  readonly messagesAccepted = new Counter({
    name: 'chat_messages_accepted_total',
    help: 'Chat messages made durable and acknowledged',
    registers: [this.registry],
  });
  readonly messagesDelivered = new Counter({
    name: 'chat_messages_delivered_total',
    help: 'Chat messages fanned out to rooms',
    registers: [this.registry],
  });
  readonly socketEvents = new Counter({
    name: 'socket_events_total',
    help: 'Inbound Socket.IO events by event and outcome code',
    labelNames: ['event', 'code'] as const,
    registers: [this.registry],
  });
  readonly ackLatency = new Histogram({
    name: 'chat_ack_latency_seconds',
    help: 'Time from receiving chat:send to its ack',
    buckets: [0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [this.registry],
  });

  constructor(nodeId: string) {
    this.registry.setDefaultLabels({ node: nodeId });
    collectDefaultMetrics({ register: this.registry, eventLoopMonitoringPrecision: 20 });
  }
}
