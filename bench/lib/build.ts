import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { build } from 'esbuild';
import { ROOT } from './paths.js';

/** Where the servers under test are compiled to (ignored by git). */
export const BUILD_DIR = join(ROOT, 'bench', '.build');

/**
 * Compiles both servers as they would ship: ours with the project's own production build
 * (tsc -p tsconfig.build.json, as `npm start` runs it), the baseline with esbuild. Not tsx:
 * tsx compiles with esbuild's keepNames, which wraps every named closure in a call that
 * redefines its `name` — measured here, that alone added ~2.5 KB per connection to ours
 * (it creates a dozen named closures per socket) and CPU to every connect.
 */
export async function buildServers(): Promise<{ ours: string; bare: string }> {
  rmSync(BUILD_DIR, { recursive: true, force: true });
  const tsc = spawnSync(
    process.execPath,
    [join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', 'tsconfig.build.json', '--outDir', join(BUILD_DIR, 'src'), '--incremental', 'false', '--declaration', 'false', '--sourceMap', 'false'],
    { cwd: ROOT, encoding: 'utf8' },
  );
  if (tsc.status !== 0) throw new Error(`tsc failed:\n${tsc.stdout}${tsc.stderr}`);
  // The build sits where dist/ does, beside package.json (the API docs read the version there).
  copyFileSync(join(ROOT, 'package.json'), join(BUILD_DIR, 'package.json'));
  await build({ entryPoints: [join(ROOT, 'bench', 'bare-server.ts')], outfile: join(BUILD_DIR, 'bare-server.js'), platform: 'node', format: 'esm', target: 'node20', logLevel: 'error' });
  const ours = join(BUILD_DIR, 'src', 'main.js');
  const bare = join(BUILD_DIR, 'bare-server.js');
  if (!existsSync(ours) || !existsSync(bare)) throw new Error('the server build is missing its entry points');
  return { ours, bare };
}
