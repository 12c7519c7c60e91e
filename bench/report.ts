/**
 * Prints the tables of a results file as Markdown (what docs/benchmarks.md quotes).
 *
 *   node --import tsx bench/report.ts bench/results/<date>.json
 */
import { readFileSync } from 'node:fs';
import { absoluteTable, ratioTable, type Ratios } from './lib/report.js';
import { redisClusterTables } from './lib/report-rediscluster.js';

const file = process.argv[2];
if (!file) {
  console.error('usage: report.ts <results.json>');
  process.exit(2);
}
const doc = JSON.parse(readFileSync(file, 'utf8')) as { ratios: Ratios; absolute: Record<string, unknown>; mode: string; date: string; elapsedSec: number };
console.log(`Run: ${doc.date} (${doc.mode}, ${Math.round(doc.elapsedSec / 60)} min)\n`);
const abs = doc.absolute as Record<string, any>;
console.log([ratioTable(doc.ratios), absoluteTable(abs), redisClusterTables(abs)].filter(Boolean).join('\n\n'));
