import { ServerProc, type Runtime, type ServerOptions } from './server-proc.js';

/**
 * Starts every server of a run, all with the run's runtime, and remembers the ones still
 * alive so that the entry point can kill them when the run fails or is interrupted: nothing
 * outlives the benchmark.
 */
export class ServerFleet {
  private readonly live = new Set<ServerProc>();

  constructor(readonly runtime: Runtime) {}

  /** Spawns a server and waits until it answers /healthz. */
  async start(options: Omit<ServerOptions, 'runtime'>): Promise<ServerProc> {
    const server = await ServerProc.spawn({ ...options, runtime: this.runtime });
    // Tracked before the health check: a server that never becomes healthy is still killed.
    this.live.add(server);
    void server.exited.then(() => this.live.delete(server));
    await server.waitForHealth();
    return server;
  }

  /** SIGKILLs every server still running (synchronous: it runs from process 'exit'). */
  killAll(): void {
    for (const server of this.live) {
      try {
        server.proc.kill('SIGKILL');
      } catch {
        /* gone */
      }
    }
  }
}
