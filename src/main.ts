import { ConfigError, loadConfig, loadDotEnv } from './config/load-config.js';
import { createApp, type App } from './app.js';

/** Process entry: configuration, start, signals and exit codes. Nothing else exits. */
async function main(): Promise<void> {
  let app: App;
  try {
    loadDotEnv();
    app = await createApp(loadConfig());
  } catch (err) {
    console.error(err instanceof ConfigError ? err.message : `Start-up failed: ${describe(err)}`);
    process.exit(1);
  }

  const shutdown = (signal: string) => {
    app.logger.info('signal received', { signal });
    const force = setTimeout(() => process.exit(1), app.config.shutdownTimeoutMs + 2000);
    force.unref();
    void app.stop().then(() => process.exit(0));
  };
  process.once('SIGTERM', () => shutdown('SIGTERM'));
  process.once('SIGINT', () => shutdown('SIGINT'));
  process.on('unhandledRejection', (reason) => app.logger.error('unhandled rejection', { err: reason }));

  try {
    await app.start();
  } catch (err) {
    app.logger.error(`Could not listen on ${app.config.host}:${app.config.port}: ${describe(err)}`);
    await app.stop();
    process.exit(1);
  }
}

function describe(err: unknown): string {
  const e = err as NodeJS.ErrnoException;
  if (e?.code === 'EADDRINUSE') return `port is already in use (${e.message}); set PORT to a free port`;
  return e instanceof Error ? e.message : String(err);
}

void main();
