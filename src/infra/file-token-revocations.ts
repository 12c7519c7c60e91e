import { mkdirSync, readFileSync } from 'node:fs';
import { rename, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { applyRevocation, type TokenRevocations } from '../ports/token-revocations.js';

/**
 * Token revocations of embedded mode (one node): a map in memory, kept in a JSON file in
 * DATA_DIR so that they survive a restart.
 *
 * A file rather than the store: it is read once, synchronously, before the node serves (the
 * store may be MongoDB, and its schema is not this feature's), and it lives where a generated
 * JWT secret lives, so revocations last exactly as long as the tokens they refuse can be
 * verified. Each write replaces the file whole (write a temporary file, then rename), so a
 * crash leaves the old list or the new one, never half of one.
 */
export class FileTokenRevocations implements TokenRevocations {
  private readonly view = new Map<string, number>();
  /** Writes run one after another, each with the whole map as it is then. */
  private writing: Promise<void> = Promise.resolve();

  constructor(private readonly file: string) {}

  revokedThrough(userId: string): number | null {
    return this.view.get(userId) ?? null;
  }

  async revoke(userId: string, second: number): Promise<void> {
    applyRevocation(this.view, userId, second);
    const write = this.writing.then(() => this.save());
    // A failed write fails its revoke; the next write (with the whole map) starts regardless.
    this.writing = write.catch(() => undefined);
    await write;
  }

  async start(): Promise<void> {
    let text: string;
    try {
      text = readFileSync(this.file, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
      throw err;
    }
    const saved = JSON.parse(text) as Record<string, unknown>;
    for (const [userId, second] of Object.entries(saved)) {
      if (typeof second === 'number' && Number.isFinite(second)) applyRevocation(this.view, userId, second);
    }
  }

  async stop(): Promise<void> {
    await this.writing;
  }

  private async save(): Promise<void> {
    mkdirSync(dirname(this.file), { recursive: true });
    const temporary = `${this.file}.${process.pid}.tmp`;
    await writeFile(temporary, JSON.stringify(Object.fromEntries(this.view)), { mode: 0o600 });
    await rename(temporary, this.file);
  }
}
