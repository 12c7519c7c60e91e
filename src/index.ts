/** Package entry: the protocol for clients, and the app factory for embedding the server. */
export * from './protocol/index.js';
export { createApp, type App, type AppOverrides } from './app.js';
export { loadConfig, ConfigError } from './config/load-config.js';
export type { AppConfig } from './config/app-config.js';
