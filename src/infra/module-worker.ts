import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';

/**
 * Starts a worker thread running the module at `entry`, a sibling of the caller given as
 * its `.js` name. Built code runs the `.js` file. When the server runs from TypeScript
 * sources under tsx (tests, `npm run dev`), the caller's URL ends in `.ts`: tsx does not
 * reach worker threads by itself, so a one-line loader registers it in the thread first.
 * No Node flags are passed on (a profiler or inspector flag stays with the main thread).
 */
export function startModuleWorker(callerUrl: string, entry: string, workerData: unknown): Worker {
  if (!callerUrl.endsWith('.ts')) return new Worker(new URL(entry, callerUrl), { workerData, execArgv: [] });
  const source = new URL(entry.replace(/\.js$/, '.ts'), callerUrl).href;
  const loader = `import(${JSON.stringify(tsxEsmApi(callerUrl))}).then((tsx) => { tsx.register(); return import(${JSON.stringify(source)}); })`;
  return new Worker(loader, { eval: true, workerData, execArgv: [] });
}

/** The ESM build of tsx's API (its `import` export; the CommonJS one cannot register ESM hooks here). */
function tsxEsmApi(callerUrl: string): string {
  const manifest = createRequire(callerUrl).resolve('tsx/package.json');
  const exports = (JSON.parse(readFileSync(manifest, 'utf8')) as { exports: Record<string, { import: { default: string } }> }).exports;
  return new URL(exports['./esm/api']!.import.default, pathToFileURL(manifest)).href;
}
