import { spawnSync } from 'node:child_process';

/**
 * Runs `ip` or `nft` synchronously and throws with its stderr on failure. Synchronous on
 * purpose: set-up and teardown steps are short and must finish in order, even in an `after`
 * hook of a failed test or in a `process.on('exit')` handler, where nothing async runs.
 */
export function sh(cmd: 'ip' | 'nft', args: string[], input?: string): string {
  const res = spawnSync(cmd, args, { encoding: 'utf8', input, timeout: 10_000 });
  if (res.error) throw new Error(`${cmd} ${args.join(' ')}: ${res.error.message}`);
  if (res.status !== 0) throw new Error(`${cmd} ${args.join(' ')}: ${res.stderr.trim() || `exit ${res.status}`}`);
  return res.stdout;
}

/** The same, for cleanup: a failure is returned instead of thrown, so every other step still runs. */
export function shQuiet(cmd: 'ip' | 'nft', args: string[]): string | null {
  try {
    sh(cmd, args);
    return null;
  } catch (err) {
    return (err as Error).message;
  }
}
