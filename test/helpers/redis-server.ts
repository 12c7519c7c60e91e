import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { connectRedis, type RedisClient } from '../../src/infra/redis/redis-client.js';
import { freePort, waitForRedisPing } from '../../support/loopback.js';
import { ServerProcess } from './server-process.js';
import { silentLogger } from './silent-logger.js';
import { tempDir } from './test-server.js';

/** True when `redis-server` is installed (Debian package `redis-server`). */
export function hasRedisServer(): boolean {
  const path = process.env.PATH ?? '';
  return path.split(':').some((dir) => existsSync(`${dir}/redis-server`));
}

/**
 * A real redis-server for tests: its own port and temporary directory, AOF when asked, and
 * process control to inject faults (kill -9, restart on the same data, SIGSTOP/SIGCONT).
 */
export class TestRedis extends ServerProcess {
  /**
   * `bind`: addresses to listen on besides 127.0.0.1, e.g. the root side of test hosts'
   * veth pairs (test/helpers/net), so that a node in a namespace reaches this Redis.
   * `replicaOf`: a replica of that (started) server. `cluster`: a Redis Cluster node (see
   * TestRedisCluster).
   */
  constructor(private readonly options: { aof?: boolean; bind?: string[]; replicaOf?: TestRedis; cluster?: boolean } = {}) {
    super(tempDir('vcs-redis-'));
  }

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  async start(): Promise<void> {
    if (!this.port) this.port = await freePort();
    // repl-diskless-sync-delay 0: a replica's full sync starts at once (Redis waits 5 s by
    // default for more replicas to share it; after a test's failover that is 5 s of refusals).
    const args = ['--port', String(this.port), '--bind', '127.0.0.1', ...(this.options.bind ?? []), '--dir', this.dir, '--save', '', '--maxmemory-policy', 'noeviction', '--repl-diskless-sync-delay', '0'];
    // appendfsync always: with everysec Redis may reply before writing the AOF while a
    // background fsync runs (seen here under load: acked writes lost on SIGKILL).
    // Protected mode refuses every address but loopback without a password; the extra ones
    // are test hosts' private addresses on this machine only.
    if (this.options.bind?.length) args.push('--protected-mode', 'no');
    if (this.options.aof) args.push('--appendonly', 'yes', '--appendfsync', 'always');
    if (this.options.replicaOf) args.push('--replicaof', '127.0.0.1', String(this.options.replicaOf.port));
    if (this.options.cluster) args.push('--cluster-enabled', 'yes', '--cluster-config-file', `${this.dir}/nodes.conf`);
    this.adopt(spawn('redis-server', args, { stdio: 'ignore' }));
    await waitForRedisPing(this.port);
  }
}

export interface SuiteRedis {
  readonly server: TestRedis;
  /** A client with the server's own settings (`connectRedis`), ready before the first test. */
  readonly client: RedisClient;
  /** One more such client (a blocking reader needs its own), closed with the suite. */
  connect(name: string): Promise<RedisClient>;
}

/**
 * A redis-server for the calling suite: started before its first test, emptied (FLUSHALL)
 * before each one, stopped after the last, with every client made here closed first.
 */
export function useRedis(options: { aof?: boolean } = {}): SuiteRedis {
  const server = new TestRedis(options);
  const clients: RedisClient[] = [];
  let client: RedisClient | null = null;
  const connect = async (name: string) => {
    const c = await connectRedis(server.url, silentLogger, name);
    clients.push(c);
    return c;
  };
  before(async () => {
    await server.start();
    client = await connect('test');
  });
  // A test may have killed the server on purpose: then there is nothing left to empty.
  beforeEach(async () => void (client?.isReady && (await client.flushAll())));
  after(async () => {
    // destroy, not close: a client of a killed server would wait for it to come back.
    for (const c of clients) if (c.isOpen) c.destroy();
    await server.stop();
  });
  return {
    server,
    get client() {
      if (!client) throw new Error('useRedis: the client exists once the suite has started');
      return client;
    },
    connect,
  };
}
