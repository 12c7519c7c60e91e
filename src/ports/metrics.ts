/**
 * What services and transport count. The one way figures leave the request path: the
 * Prometheus registry behind it belongs to infra (infra/metrics.ts), so a service or a
 * handler never touches a counter's labels or its registry.
 */
export type ModerationAction = 'kick' | 'mute' | 'end' | 'admit' | 'deny' | 'remove' | 'ban' | 'role' | 'update' | 'delete';

export interface ServerMetrics {
  /** A chat message was stored for the first time (a retried clientMsgId is not counted again). */
  messageAccepted(): void;
  /** A send was answered with success, `seconds` after it arrived. */
  sendAcked(seconds: number): void;
  /** A stored message was fanned out to its room. */
  messageDelivered(): void;
  /** One handled inbound Socket.IO event and its outcome (`OK` or an error code). */
  socketEvent(event: string, code: string): void;
  socketOpened(namespace: string): void;
  /** A moderation action that took effect (kick, mute, end, admit, deny, remove, ban, role, update, delete). */
  moderationAction(action: ModerationAction): void;
  socketClosed(namespace: string): void;
  /** One REST response; `route` is a route pattern, never a path the client chose. */
  httpRequest(method: string, route: string, status: number): void;
  /** The exposition served at GET /metrics. */
  render(): Promise<{ contentType: string; body: string }>;
}

/** What the operator API counts (infra/metrics.ts). */
export interface OperatorMetrics {
  /** `POST /api/admin/users/:userId/disconnect` closed `sockets` sockets, cluster-wide. */
  operatorDisconnect(sockets: number): void;
  /** A user's tokens were revoked. */
  tokensRevoked(): void;
  /** An operator message was sent to a room. */
  systemMessageSent(): void;
}
