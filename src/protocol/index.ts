/**
 * The client-facing protocol: event maps, payload schemas, error codes and wire models.
 * Free of Node APIs, so that browser apps can import it.
 */
export * from './error-codes.js';
export * from './models.js';
export * from './schemas.js';
export * from './query-schemas.js';
export * from './events.js';
export * from './answers.js';
export * from './text-rules.js';
export * from './search-terms.js';
export * from './webhooks.js';
export * from './system-sender.js';

export const NAMESPACES = { chat: '/chat', rtc: '/rtc' } as const;
export const DEFAULT_SOCKET_PATH = '/ws';
