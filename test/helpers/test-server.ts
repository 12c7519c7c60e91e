import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Socket } from 'socket.io-client';
import { createApp, type App, type AppOverrides } from '../../src/app.js';
import type { AppConfig } from '../../src/config/app-config.js';
import { loadConfig } from '../../src/config/load-config.js';
import { connect } from './socket-client.js';

export interface TestServer {
  app: App;
  port: number;
  url: string;
  dataDir: string;
  stop(): Promise<void>;
}

export function tempDir(prefix = 'vcs-test-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

export interface StartServerOptions {
  /** A data directory to use (and keep); by default a fresh one, removed on stop. */
  dataDir?: string;
  /** The name prefix of that fresh directory. */
  tempPrefix?: string;
  /** Parts the app should not build itself; a function gets the loaded configuration first. */
  overrides?: AppOverrides | ((config: AppConfig) => Promise<AppOverrides>);
}

/**
 * A real server on a free loopback port with its own temporary data directory.
 * `env` overrides the environment the server would read.
 */
export async function startServer(env: Record<string, string> = {}, options: StartServerOptions = {}): Promise<TestServer> {
  const dataDir = options.dataDir ?? tempDir(options.tempPrefix);
  const config = loadConfig({
    NODE_ENV: 'test',
    PORT: '0',
    HOST: '127.0.0.1',
    DATA_DIR: dataDir,
    LOG_DIR: 'none',
    LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'silent',
    ...env,
  });
  // The data directory is ours to remove whatever happens: a failed start or stop too.
  const removeDataDir = () => {
    if (!options.dataDir) rmSync(dataDir, { recursive: true, force: true });
  };
  let app: App | undefined;
  let port: number;
  try {
    const overrides = typeof options.overrides === 'function' ? await options.overrides(config) : options.overrides;
    app = await createApp(config, overrides);
    port = await app.start();
  } catch (err) {
    await app?.stop().catch(() => undefined);
    removeDataDir();
    throw err;
  }
  const started = app;
  return {
    app: started,
    port,
    url: `http://127.0.0.1:${port}`,
    dataDir,
    stop: async () => {
      try {
        await started.stop();
      } finally {
        removeDataDir();
      }
    },
  };
}

export interface SuiteServer {
  /** Filled in by the suite's `before` hook: use it inside hooks and tests only. */
  server: TestServer;
  /** Sockets to close after each test. */
  sockets: Socket[];
  /** Connects to `namespace` (/chat by default) with `token`; the socket is closed after the test. */
  open(token: string, namespace?: string): Promise<Socket>;
}

/**
 * One server for the enclosing `describe`: started with `env` before its tests and stopped
 * after them; the sockets in `sockets` are closed after each test. Call inside a `describe`.
 */
export function useServer(env: Record<string, string> = {}): SuiteServer {
  const server = {} as TestServer;
  const sockets: Socket[] = [];
  before(async () => {
    Object.assign(server, await startServer(env));
  });
  afterEach(() => {
    for (const s of sockets.splice(0)) s.close();
  });
  after(async () => {
    await server.stop();
  });
  return {
    server,
    sockets,
    open: async (token, namespace = '/chat') => {
      const socket = await connect(server.url, namespace, token);
      sockets.push(socket);
      return socket;
    },
  };
}
