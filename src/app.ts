import { createServer, type Server as HttpServer } from 'node:http';
import proxyaddr from 'proxy-addr';
import type { AddressInfo } from 'node:net';
import type { AppConfig } from './config/app-config.js';
import { loadOrCreateJwtSecret } from './infra/jwt-secret-file.js';
import { createLogger } from './infra/logging/create-logger.js';
import { PrometheusMetrics } from './infra/metrics.js';
import { selectInfra } from './infra/select-infra.js';
import { selectStore } from './infra/select-store.js';
import { Closer } from './lifecycle/closer.js';
import { trackHttpConnections } from './lifecycle/http-connections.js';
import type { Logger } from './ports/logger.js';
import type { Store } from './ports/store.js';
import { buildSchemas } from './protocol/schemas.js';
import { NAMESPACES } from './protocol/index.js';
import { CallService } from './services/call-service.js';
import { CallWebhooks } from './services/call-webhooks.js';
import { ChatService, JOIN_PAGE_SIZE } from './services/chat-service.js';
import { Redelivery } from './services/redelivery.js';
import { IceService } from './services/ice-service.js';
import { OperatorService } from './services/operator-service.js';
import { ReadMarkers } from './services/read-markers.js';
import { Readiness } from './services/readiness.js';
import { RoomService } from './services/room-service.js';
import { TokenService } from './services/token-service.js';
import { createHttpApp } from './transport/http/create-http-app.js';
import { createOriginPolicy } from './transport/origin-policy.js';
import { registerChatNamespace } from './transport/socket/chat-namespace.js';
import { createIo, type IoServer } from './transport/socket/create-io.js';
import { discardSessionOnServerDisconnect } from './transport/socket/discarded-sessions.js';
import { ClusterSockets, markForOperators } from './transport/socket/cluster-sockets.js';
import { handshake } from './transport/socket/handshake.js';
import { holdMissedPacketsUntilAuthenticated } from './transport/socket/held-recovery.js';
import { registerRtcNamespace } from './transport/socket/rtc-namespace.js';
import { SocketLiveDelivery } from './transport/socket/socket-live-delivery.js';
import { SocketRoomControl } from './transport/socket/socket-room-control.js';
import { callRoomKey, chatRoomKey, type ChatNamespace, type RtcNamespace } from './transport/socket/socket-types.js';
import type { DeadNodeCleanup } from './infra/redis/node-registry.js';
import { webhookSecretKey } from './infra/webhooks/signing.js';
import { WebhookDispatcher, type WebhookDispatcherOptions } from './infra/webhooks/webhook-dispatcher.js';
import { noWebhookDeadLetters } from './ports/webhook-outbox.js';
import { noWebhooks, type WebhookPublisher } from './ports/webhooks.js';
import { OutboxWebhookPublisher } from './services/webhook-publisher.js';

export interface App {
  readonly config: AppConfig;
  readonly logger: Logger;
  readonly httpServer: HttpServer;
  readonly io: IoServer;
  readonly store: Store;
  readonly tokens: TokenService;
  /** Where services publish webhook events (noWebhooks when WEBHOOK_URLS is unset). */
  readonly webhooks: WebhookPublisher;
  /** Listens on config.host:config.port; resolves with the bound port (useful with port 0). */
  start(): Promise<number>;
  /** Idempotent, ordered shutdown under SHUTDOWN_TIMEOUT_MS. */
  stop(): Promise<void>;
}

export interface AppOverrides {
  logger?: Logger;
  store?: Store;
  /**
   * Entries the adapter stream keeps for connection-state recovery (cluster mode), instead of
   * ADAPTER_STREAM_MAXLEN: a test makes it small to trim a client's offset with a short burst.
   */
  adapterStreamMaxLen?: number;
  /** Default ADAPTER_PUBLISH_HIGH_WATER (tests set 1: every ack waits for its broadcast's publish). */
  adapterPublishHighWater?: number;
  /** Dispatcher timings (timeout, backoff, lease, poll): tests shorten them; production keeps the defaults. */
  webhookDispatcher?: Partial<Omit<WebhookDispatcherOptions, 'key' | 'maxAttempts'>>;
}

/**
 * The composition root: builds every piece from the configuration and wires them together.
 * Nothing else in the code base creates infrastructure, so several apps (nodes) can live in
 * one process.
 */
export async function createApp(config: AppConfig, overrides: AppOverrides = {}): Promise<App> {
  const logger =
    overrides.logger ??
    createLogger({ level: config.logLevel, json: config.production, dir: config.logDir, defaultMeta: { nodeId: config.nodeId } });
  const closer = new Closer();
  const metrics = new PrometheusMetrics(config.nodeId);
  const schemas = buildSchemas({ maxMessageLength: config.maxMessageLength, maxCallParticipants: config.maxCallParticipants });
  const originPolicy = createOriginPolicy(config.corsOrigins, config.production);

  const tuning = { adapterStreamMaxLen: overrides.adapterStreamMaxLen, adapterPublishHighWater: overrides.adapterPublishHighWater };
  const infra = await selectInfra(config, overrides.store ?? (await selectStore(config, logger)), logger, metrics, tuning);
  const { store } = infra;
  const jwtSecret = config.jwtSecret ?? loadOrCreateJwtSecret(config.dataDir);
  const tokens = new TokenService(jwtSecret, config.tokenTtlSeconds, infra.revocations);

  const { presence, calls, connections } = infra;
  const { events: eventLimiter, http: httpLimiter } = infra.limiters;

  // Webhooks: the publisher queues in the outbox (before the caller's ack); the dispatcher
  // delivers in the background, on whichever node claims the delivery.
  const { webhookOutbox } = infra;
  const dispatcher =
    config.webhooks && webhookOutbox
      ? new WebhookDispatcher(
          webhookOutbox,
          { key: webhookSecretKey(config.webhooks.secret), maxAttempts: config.webhooks.maxAttempts, ...overrides.webhookDispatcher },
          logger,
          metrics.webhooks,
        )
      : null;
  const webhooks: WebhookPublisher =
    config.webhooks && webhookOutbox ? new OutboxWebhookPublisher(config.webhooks, webhookOutbox, () => dispatcher?.wake()) : noWebhooks;
  if (webhookOutbox) metrics.observeWebhookOutbox(() => webhookOutbox.depth());

  const live = new SocketLiveDelivery(metrics, infra.fanOutBacklog);
  const control = new SocketRoomControl(infra.mode === 'cluster', infra.lobby, logger);
  // Read markers go to the store directly, in cluster mode too (not through the chat queue).
  const markers = new ReadMarkers(infra.store, logger);
  const rooms = new RoomService(infra.rooms, presence, config.maxCallParticipants, infra.messages, control, webhooks, markers);
  const chat = new ChatService({ messages: infra.messages, rooms, live, budget: infra.limiters.messages, metrics, webhooks, markers });
  const ice = new IceService(config);
  const callService = new CallService(rooms, calls, ice, infra.lobby, config.lobbyTimeoutMs);
  const callHooks = new CallWebhooks(webhooks, calls, infra.callMarks, config.recoveryWindowMs, logger);
  const readiness = new Readiness(infra.probes);
  const clusterSockets = new ClusterSockets();
  const operator = new OperatorService({ rooms: infra.rooms, chat, sockets: clusterSockets, revocations: infra.revocations, metrics, logger });

  const { deadLetters } = infra;
  const webhookDeadLetters = webhookOutbox?.deadLetters ?? noWebhookDeadLetters;
  const httpApp = createHttpApp({ config, logger, metrics, schemas, originPolicy, httpLimiter, tokens, rooms, chat, ice, readiness, deadLetters, webhookDeadLetters, operator });
  const httpServer = createServer(httpApp);
  const io = createIo(httpServer, config, originPolicy, infra.adapter);
  const httpConnections = trackHttpConnections(httpServer);
  // Same trust rule as Express's req.ip, so a socket behind nginx counts against its client.
  const trust = httpApp.get('trust proxy fn') as Parameters<typeof proxyaddr>[1];
  const auth = handshake({ tokens, connections, limiter: infra.limiters.handshakes, logger, clientAddress: (req) => proxyaddr(req, trust) });
  const chatNsp = io.of(NAMESPACES.chat) as unknown as ChatNamespace;
  const rtcNsp = io.of(NAMESPACES.rtc) as unknown as RtcNamespace;
  for (const nsp of [chatNsp, rtcNsp]) {
    discardSessionOnServerDisconnect(nsp);
    holdMissedPacketsUntilAuthenticated(nsp);
    nsp.use(auth);
    markForOperators(nsp, config.nodeId);
  }
  clusterSockets.attach(chatNsp, rtcNsp);
  const common = { logger, metrics, schemas, rooms, eventLimiter, nodeId: config.nodeId, recoveryWindowMs: config.recoveryWindowMs };
  const redelivery = new Redelivery({
    ackTimeoutMs: config.deliveryAckTimeoutMs,
    maxAttempts: config.deliveryMaxAttempts,
    currentSeq: (roomId) => chat.lastSeq(roomId),
    messagesAfter: async (roomId, after) => (await chat.history(roomId, { after, limit: JOIN_PAGE_SIZE })).messages,
    logger,
  });
  const chatActions = registerChatNamespace(chatNsp, { ...common, chat, presence, redelivery });
  const callActions = registerRtcNamespace(rtcNsp, { ...common, calls: callService, control, callHooks });
  control.attach({
    chatNsp,
    chat: chatActions,
    calls: callActions,
    // Asked with the user's id only: the access rule needs no more of the user.
    mayStay: (roomId, userId) => rooms.access({ id: userId, name: userId, guest: false }, roomId).then((a) => a.role !== null || !a.room.isPrivate, () => false),
  });
  live.attach(chatNsp);
  const announceDeadNode = (cleanup: DeadNodeCleanup) => {
    for (const { roomId, participant } of cleanup.left) chatNsp.to(chatRoomKey(roomId)).emit('room:presence', { roomId, left: participant });
    for (const { roomId, peerId, userId, name } of cleanup.peersLeft) {
      rtcNsp.to(callRoomKey(roomId)).emit('call:peer-left', { roomId, peerId });
      // Its clients reconnect elsewhere within the recovery window, or count as gone after it.
      void callHooks.left(roomId, { id: userId, name }, 'disconnected');
    }
  };

  // The other nodes took this one for dead (cut off from Redis past the heartbeat timeout)
  // and told every room its participants left. Closing the connections makes that true: the
  // clients reconnect at once (a recoverable close, so their sessions are restored), presence
  // is announced again on recovery, and call peers join again as after any reconnect.
  const handBackClients = () => {
    logger.warn('closing every client connection of this node so that they reconnect and rejoin', { nodeId: config.nodeId, connections: io.engine.clientsCount });
    // conn.close() ends the connection ("forced close", which keeps the session), not just the namespace.
    for (const nsp of [chatNsp, rtcNsp]) for (const socket of nsp.sockets.values()) socket.conn.close();
  };

  closer.add('mark not ready', () => {
    readiness.markShuttingDown();
    redelivery.stop();
    callHooks.stop();
  });
  // io.close() tells every client "server shutting down" (a recoverable reason: the session
  // is kept for connection-state recovery) and closes the HTTP server.
  // Idle HTTP connections (a browser's spare or keep-alive ones) are closed, or they would
  // hold the stop until its deadline.
  closer.add('close socket.io and http', () => {
    const closed = new Promise<void>((resolve) => void io.close(() => resolve()));
    httpConnections.closeIdle();
    return closed;
  });
  // Before Redis or the outbox file closes: deliveries in flight are handed back, not lost.
  closer.add('stop webhook dispatcher', () => dispatcher?.stop());
  closer.add('stop shared state', () => infra.stop());
  // Sockets are closed: no send moves a marker any more. Those held are written before the store closes.
  closer.add('write read markers', () => markers.stop());
  closer.add('close store', () => infra.closeStore());

  let stopping: Promise<void> | undefined;
  return {
    config,
    logger,
    httpServer,
    io,
    store,
    tokens,
    webhooks,
    start: async () => {
      await infra.start(announceDeadNode, handBackClients, webhooks);
      redelivery.start();
      dispatcher?.start();
      callHooks.start();
      return new Promise<number>((resolve, reject) => {
        httpServer.once('error', reject);
        httpServer.listen(config.port, config.host, () => {
          httpServer.off('error', reject);
          const port = (httpServer.address() as AddressInfo).port;
          logger.info('server listening', { host: config.host, port, socketPath: config.socketPath, store: store.kind, mode: infra.mode });
          resolve(port);
        });
      });
    },
    stop: () =>
      (stopping ??= (async () => {
        logger.info('shutting down');
        await closer.closeAll(config.shutdownTimeoutMs, logger);
        logger.info('stopped');
      })()),
  };
}
