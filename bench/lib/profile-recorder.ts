import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { formatSummary, mainProfile, summarize } from '../cpuprofile-summary.js';
import type { ServerKind, ServerProc } from './server-proc.js';

interface Capture {
  name: string;
  kind: ServerKind;
  dir: string;
  windowUs: [number, number];
}

/**
 * CPU profiles for --profile: a directory per profiled server (node --cpu-prof writes its
 * profile there on exit), the measured windows to cut each profile to, and at the end the
 * summaries, for the results' `profiles` and bench/results/profile-<date>.md.
 */
export class ProfileRecorder {
  private readonly root = mkdtempSync(join(tmpdir(), 'vcs-bench-prof-'));
  private readonly captures: Capture[] = [];

  /** A fresh directory for the profile of one server of scenario `name`. */
  dirFor(name: string, kind: ServerKind): string {
    return mkdtempSync(join(this.root, `${name}-${kind}-`));
  }

  /** Remembers a measured window of a server started with a profile directory. */
  capture(name: string, server: ServerProc, windowUs: [number, number]): void {
    const dir = server.options.cpuProfDir;
    if (dir) this.captures.push({ name, kind: server.kind, dir, windowUs });
  }

  /**
   * Summarises every captured window; call it once the servers have stopped (a profile is
   * written on exit). A profile that cannot be read becomes a note, not a failed run.
   */
  summarize(note: (message: string) => void): { profiles: Record<string, unknown>; markdown: string } {
    const profiles: Record<string, unknown> = {};
    const sections: string[] = [];
    for (const c of this.captures) {
      try {
        const summary = summarize(JSON.parse(readFileSync(mainProfile(c.dir), 'utf8')), 20, c.windowUs);
        profiles[`${c.name}-${c.kind}`] = { top: summary.top.slice(0, 12), areas: summary.areas.slice(0, 10) };
        sections.push(formatSummary(summary, `${c.name}, ${c.kind} (measured window)`), '');
      } catch (err) {
        note(`profile ${c.name}/${c.kind}: ${(err as Error).message}`);
      }
    }
    return { profiles, markdown: sections.join('\n') };
  }

  dispose(): void {
    rmSync(this.root, { recursive: true, force: true });
  }
}
