import { execFileSync, spawnSync } from 'node:child_process';
import { cpus } from 'node:os';

/**
 * Where the processes of a run sit: every server under test on CPU 0, the load generator
 * (this process) on CPU 1, so that neither steals the other's core. Two-node runs and Redis
 * are not pinned (three processes would share two cores either way).
 */
export const SERVER_CPU = 0;
export const GENERATOR_CPU = 1;

export const hasTaskset = (() => {
  try {
    return spawnSync('taskset', ['-V']).status === 0;
  } catch {
    return false;
  }
})();

/** Whether this machine can pin at all: taskset and two cores. */
export const canPin = hasTaskset && cpus().length >= 2;

export function pinningDescription(): string {
  return canPin ? `servers on CPU ${SERVER_CPU}, generator on CPU ${GENERATOR_CPU} (two-node runs and Redis unpinned)` : 'none';
}

/**
 * Runs `argv` pinned to `cpu` when taskset exists; `null` lets the scheduler place it on any
 * CPU. A child inherits its parent's affinity, and this generator pins itself to one CPU, so
 * "unpinned" has to be said explicitly (taskset over every CPU): without that, the two-node
 * runs and Redis all shared the generator's core (found 2026-12-02: 50 % idle throughout).
 */
export function pinnedCommand(cpu: number | null, argv: string[]): [string, string[]] {
  if (!hasTaskset) return [argv[0]!, argv.slice(1)];
  return ['taskset', ['-c', cpu === null ? `0-${cpus().length - 1}` : String(cpu), ...argv]];
}

/** Pins this process, threads included, to the generator's CPU; false if taskset refused. */
export function pinGenerator(): boolean {
  if (!canPin) return true;
  try {
    execFileSync('taskset', ['-a', '-p', '-c', String(GENERATOR_CPU), String(process.pid)], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}
