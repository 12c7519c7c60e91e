import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createApp, type App, type AppOverrides } from '../../src/app.js';
import { loadConfig } from '../../src/config/load-config.js';

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

/**
 * A real server on a free loopback port with its own temporary data directory.
 * `env` overrides the environment the server would read.
 */
export async function startServer(
  env: Record<string, string> = {},
  options: { dataDir?: string; overrides?: AppOverrides } = {},
): Promise<TestServer> {
  const dataDir = options.dataDir ?? tempDir();
  const config = loadConfig({
    NODE_ENV: 'test',
    PORT: '0',
    HOST: '127.0.0.1',
    DATA_DIR: dataDir,
    LOG_DIR: 'none',
    LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'silent',
    ...env,
  });
  const app = await createApp(config, options.overrides);
  const port = await app.start();
  return {
    app,
    port,
    url: `http://127.0.0.1:${port}`,
    dataDir,
    stop: async () => {
      await app.stop();
      if (!options.dataDir) rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
