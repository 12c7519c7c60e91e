import { expect } from 'chai';
import { spawn, type ChildProcess } from 'node:child_process';
import { rmSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { createRoom, guest, request } from '../helpers/http-client.js';
import { freePort } from '../../support/loopback.js';
import { eventually } from '../helpers/socket-client.js';
import { tempDir } from '../helpers/test-server.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

interface Child {
  process: ChildProcess;
  url: string;
  output(): { stdout: string; stderr: string };
  /** Resolves with the exit code once the process has ended and its output is read. */
  exited: Promise<number | null>;
}

/** Waits for the exit code, or fails after `timeoutMs`. */
async function exitCode(child: Child, timeoutMs: number): Promise<number | null> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`process did not exit within ${timeoutMs} ms\n${child.output().stderr}`)), timeoutMs);
  });
  try {
    return await Promise.race([child.exited, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

describe('the entry point as a child process (src/main.ts)', function () {
  this.timeout(30000);
  const children: Child[] = [];
  const dirs: string[] = [];

  after(() => {
    for (const child of children) if (child.process.exitCode === null && child.process.signalCode === null) child.process.kill('SIGKILL');
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  });

  /** Starts `node --import tsx src/main.ts` with only the given environment (plus PATH). */
  function launch(env: Record<string, string>): Child {
    const proc = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
      cwd: ROOT,
      env: { PATH: process.env.PATH ?? '', HOST: '127.0.0.1', LOG_DIR: 'none', LOG_LEVEL: 'info', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    proc.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
    proc.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    const exited = new Promise<number | null>((resolve) => proc.once('close', (code) => resolve(code)));
    const child: Child = { process: proc, url: `http://127.0.0.1:${env.PORT}`, output: () => ({ stdout, stderr }), exited };
    children.push(child);
    return child;
  }

  /** Launches on a fresh port and polls /healthz until the server answers. */
  async function startChild(dataDir: string): Promise<Child> {
    // Not PORT=0: the entry point cannot report the port it bound.
    const child = launch({ DATA_DIR: dataDir, PORT: String(await freePort()) });
    await eventually(
      async () => {
        if (child.process.exitCode !== null) throw new Error(`server exited early (${child.process.exitCode}):\n${child.output().stderr}`);
        try {
          return (await fetch(`${child.url}/healthz`)).status === 200;
        } catch {
          return false;
        }
      },
      15000,
      'the child server to answer /healthz',
    );
    return child;
  }

  it('keeps tokens, history and seq across a SIGTERM and a restart on the same DATA_DIR', async () => {
    const dataDir = tempDir('vcs-process-');
    dirs.push(dataDir);

    const first = await startChild(dataDir);
    const alice = await guest(first.url, 'Alice');
    const room = await createRoom(first.url, alice.token, { name: 'Durable' });
    const sent = [];
    for (let i = 1; i <= 5; i++) {
      const res = await request(first.url, 'POST', '/api/messages', { token: alice.token, body: { roomId: room.id, text: `before restart ${i}`, clientMsgId: `c${i}` } });
      expect(res.status).to.equal(201);
      sent.push(res.body);
    }
    expect(sent.map((m) => m.seq)).to.deep.equal([1, 2, 3, 4, 5]);

    first.process.kill('SIGTERM');
    expect(await exitCode(first, 10000), first.output().stderr).to.equal(0);

    const second = await startChild(dataDir);
    // The token issued before the restart still authenticates (the secret was kept in DATA_DIR).
    const details = await request(second.url, 'GET', `/api/rooms/${room.id}`, { token: alice.token });
    expect(details.status).to.equal(200);
    expect(details.body).to.include({ id: room.id, name: 'Durable', lastSeq: 5 });

    const history = await request(second.url, 'GET', `/api/messages?roomId=${room.id}`, { token: alice.token });
    expect(history.status).to.equal(200);
    expect(history.body).to.deep.equal({ messages: sent, hasMore: false });

    // A retry of an acked send after the restart is still recognised, not stored twice.
    const retry = await request(second.url, 'POST', '/api/messages', { token: alice.token, body: { roomId: room.id, text: 'before restart 5', clientMsgId: 'c5' } });
    expect(retry.status).to.equal(200);
    expect(retry.body).to.deep.equal(sent[4]);

    const next = await request(second.url, 'POST', '/api/messages', { token: alice.token, body: { roomId: room.id, text: 'after restart', clientMsgId: 'c6' } });
    expect(next.status).to.equal(201);
    expect(next.body.seq).to.equal(6);

    second.process.kill('SIGTERM');
    expect(await exitCode(second, 10000), second.output().stderr).to.equal(0);
  });

  it('exits non-zero with a message naming PORT when PORT=abc', async () => {
    const dataDir = tempDir('vcs-process-');
    dirs.push(dataDir);
    const child = launch({ DATA_DIR: dataDir, PORT: 'abc' });
    const code = await exitCode(child, 10000);
    expect(code).to.be.a('number').and.not.equal(0);
    expect(child.output().stderr).to.contain('PORT');
  });

  it('exits non-zero naming JWT_SECRET when NODE_ENV=production has no JWT_SECRET', async () => {
    const dataDir = tempDir('vcs-process-');
    dirs.push(dataDir);
    const child = launch({ DATA_DIR: dataDir, PORT: String(await freePort()), NODE_ENV: 'production' });
    const code = await exitCode(child, 10000);
    expect(code).to.be.a('number').and.not.equal(0);
    expect(child.output().stderr).to.contain('JWT_SECRET');
  });

  it('exits non-zero with a clear message when the port is taken', async () => {
    const dataDir = tempDir('vcs-process-');
    dirs.push(dataDir);
    const blocker = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    try {
      const port = (blocker.address() as AddressInfo).port;
      const child = launch({ DATA_DIR: dataDir, PORT: String(port) });
      const code = await exitCode(child, 15000);
      expect(code).to.be.a('number').and.not.equal(0);
      const { stdout, stderr } = child.output();
      expect(stdout + stderr).to.contain('PORT');
    } finally {
      await new Promise<void>((resolve) => blocker.close(() => resolve()));
    }
  });
});
