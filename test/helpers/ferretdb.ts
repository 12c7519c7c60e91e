import { spawn, spawnSync, type SpawnOptions } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { freePort, portAccepts } from '../../support/loopback.js';
import { ServerProcess, type ProcessHost } from './server-process.js';
import { tempDir } from './test-server.js';

/** How to get the server the MongoDB suites start (see .ci/install-ferretdb). */
export const FERRETDB_HOWTO =
  'go install github.com/FerretDB/FerretDB/cmd/ferretdb@v1.24.2 (a plain go install of v1.24.2 panics at start for want of its ' +
  'version file: .ci/install-ferretdb builds that same package with it into $(go env GOPATH)/bin, where the tests look)';

/** `ferretdb` on PATH or in Go's bin directory, if it runs; null otherwise. */
export function findFerretDb(): string | null {
  const dirs = (process.env.PATH ?? '').split(':').filter(Boolean);
  for (const go of ['go', '/usr/local/go/bin/go']) {
    const gopath = spawnSync(go, ['env', 'GOPATH'], { encoding: 'utf8', timeout: 5000 });
    if (gopath.status === 0 && gopath.stdout.trim()) dirs.push(join(gopath.stdout.trim().split(':')[0]!, 'bin'));
  }
  dirs.push(join(homedir(), 'go', 'bin'));
  for (const dir of dirs) {
    const bin = join(dir, 'ferretdb');
    if (existsSync(bin) && spawnSync(bin, ['--version'], { timeout: 5000 }).status === 0) return bin;
  }
  return null;
}

export interface FerretDbOptions {
  /** Run inside this test host, listening on its address, instead of on loopback. */
  host?: ProcessHost;
  /** Turn on authentication with one user (FerretDB's new auth, which its SQLite backend has). */
  auth?: { user: string; password: string; database: string };
}

/**
 * A real FerretDB (a MongoDB-wire server; SQLite backend) for tests: its own port and
 * temporary directory, and process control to inject faults (kill -9, restart on the same
 * data, SIGSTOP/SIGCONT), as TestRedis does for Redis. FerretDB's SQLite files keep what it
 * committed across a kill.
 */
export class TestFerretDb extends ServerProcess {
  private output = '';

  constructor(
    readonly bin: string,
    private readonly options: FerretDbOptions = {},
  ) {
    super(tempDir('vcs-ferretdb-'));
  }

  /** The URI of database `db` (a fresh, unique one by default) on this server. */
  uri(db = uniqueDbName()): string {
    return `mongodb://${this.listenAddr}:${this.port}/${db}`;
  }

  private get listenAddr(): string {
    return this.options.host?.addr ?? '127.0.0.1';
  }

  async start(): Promise<void> {
    if (!this.port) this.port = await freePort();
    const args = [
      '--handler=sqlite',
      `--sqlite-url=file:${this.dir}/`,
      `--state-dir=${this.dir}`,
      `--listen-addr=${this.listenAddr}:${this.port}`,
      '--debug-addr=-',
      '--telemetry=disable',
      '--log-level=error',
    ];
    const auth = this.options.auth;
    if (auth) args.push('--test-enable-new-auth', `--setup-database=${auth.database}`, `--setup-username=${auth.user}`, `--setup-password=${auth.password}`);
    const spawnOptions: SpawnOptions = { stdio: ['ignore', 'ignore', 'pipe'] };
    const proc = this.adopt(this.options.host ? this.options.host.spawn(this.bin, args, spawnOptions) : spawn(this.bin, args, spawnOptions));
    proc.stderr!.on('data', (d: Buffer) => (this.output = (this.output + d.toString()).slice(-8000)));
    const deadline = Date.now() + 10_000;
    while (!(await portAccepts(this.port, this.listenAddr))) {
      if (proc.exitCode !== null || Date.now() > deadline) throw new Error(`ferretdb did not listen on port ${this.port}:\n${this.output}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }
}

export function uniqueDbName(): string {
  return `vcs_${randomUUID().replaceAll('-', '').slice(0, 12)}`;
}

/** Where a suite's MongoDB is: a URI per database, and the FerretDB process when we started one. */
export interface MongoTarget {
  /** A fresh database's URI on the suite's server. */
  uri(): string;
  /** The FerretDB this suite started (null when MONGODB_URI points at a server of yours). */
  ferret: TestFerretDb | null;
}

/**
 * Declares a suite that needs a MongoDB-wire server. `MONGODB_URI`, when set, points it at
 * a real MongoDB (each test gets a database of its own there); otherwise the suite starts
 * one FerretDB for all its tests. Without ferretdb the suite prints why it is skipped and
 * how to get it; under CI (CI=true), where .ci/run builds it, it fails instead.
 */
export function describeWithMongo(title: string, body: (target: MongoTarget) => void): void {
  const external = process.env.MONGODB_URI;
  if (external) {
    describe(`${title} (MONGODB_URI)`, () =>
      body({
        uri: () => {
          const url = new URL(external);
          url.pathname = `/${uniqueDbName()}`;
          return url.toString();
        },
        ferret: null,
      }),
    );
    return;
  }
  const bin = findFerretDb();
  if (!bin) {
    describe(title, () => {
      if (process.env.CI) it('needs a MongoDB-wire server', () => Promise.reject(new Error(`ferretdb not found under CI: ${FERRETDB_HOWTO}`)));
      else it(`is skipped: ferretdb is not installed; ${FERRETDB_HOWTO}; or set MONGODB_URI`);
    });
    return;
  }
  describe(`${title} (FerretDB)`, () => {
    const ferret = new TestFerretDb(bin);
    before(() => ferret.start());
    after(() => ferret.stop());
    body({ uri: () => ferret.uri(), ferret });
  });
}

/** For a test that kills or pauses the server: skipped (saying why) against a MongoDB of yours. */
export function needsFerret(target: MongoTarget, ctx: Mocha.Context): TestFerretDb {
  if (target.ferret) return target.ferret;
  console.log('      (skipped: this test kills or pauses the server; it runs against the FerretDB the tests start, not MONGODB_URI)');
  ctx.skip();
}
