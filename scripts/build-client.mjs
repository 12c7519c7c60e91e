// Bundles the demo client (client/) into dist/public, which the server serves at `/`.
// esbuild resolves `fault-tolerant-video-chat-server/protocol` through client/tsconfig.json's
// `paths`, so the page uses the same protocol module that client apps import.
import { build } from 'esbuild';
import { copyFileSync, mkdirSync } from 'node:fs';

const outdir = 'dist/public';
mkdirSync(outdir, { recursive: true });
const result = await build({
  entryPoints: ['client/main.ts', 'client/styles.css'],
  outdir,
  bundle: true,
  format: 'esm',
  target: ['chrome111', 'firefox119', 'safari16.4'], // String.prototype.isWellFormed (text-rules)
  minify: true,
  sourcemap: true,
  tsconfig: 'client/tsconfig.json',
  legalComments: 'linked',
  metafile: true,
  logLevel: 'warning',
});
for (const file of ['index.html', 'favicon.svg']) copyFileSync(`client/${file}`, `${outdir}/${file}`);

const sizes = Object.entries(result.metafile.outputs)
  .filter(([file]) => !file.endsWith('.map'))
  .map(([file, { bytes }]) => `${file.replace(`${outdir}/`, '')} ${(bytes / 1024).toFixed(1)} KiB`);
console.log(`demo client → ${outdir}: ${sizes.join(', ')}`);
