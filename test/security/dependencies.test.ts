import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';

/**
 * S30 (and S16, S17, S22, S4): every installed copy of the packages on the attack surface is
 * past the advisories the threat model names. `npm audit` in CI checks the whole tree when
 * the registry serves advisories; this check needs no network, so it always runs.
 */

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

const FLOORS: Array<[name: string, floor: string, why: string]> = [
  ['socket.io', '4.6.2', 'CVE-2024-38355 (unhandled error event crashes the process)'],
  ['engine.io', '6.6.2', 'CVE-2022-41940, CVE-2022-21676 (crafted requests crash the process)'],
  ['socket.io-parser', '4.2.3', 'CVE-2022-2421 (placeholder injection), CVE-2023-32695'],
  ['ws', '8.17.1', 'CVE-2024-37890 (too many headers crash the server)'],
  ['mongoose', '8.9.5', 'CVE-2024-53900, CVE-2025-23061 ($where injection)'],
  ['zod', '3.22.3', 'CVE-2023-4316 (email ReDoS)'],
  ['jose', '4.15.5', 'CVE-2024-28176 (JWE decompression DoS)'],
  ['body-parser', '1.20.3', 'CVE-2024-45590 (url-encoded DoS)'],
  ['express', '4.20.0', 'CVE-2024-43796 (XSS in redirects)'],
  ['cookie', '0.7.0', 'CVE-2024-47764 (cookie name injection)'],
];

function newer(version: string, floor: string): boolean {
  const a = version.split(/[.+-]/).slice(0, 3).map(Number);
  const b = floor.split('.').map(Number);
  for (let i = 0; i < 3; i++) if ((a[i] ?? 0) !== b[i]) return (a[i] ?? 0) > b[i]!;
  return true;
}

/** The versions of every installed copy of `name`, nested copies included. */
function installed(name: string, dir = join(ROOT, 'node_modules'), found: string[] = [], depth = 0): string[] {
  if (!existsSync(dir) || depth > 8) return found;
  const own = join(dir, name, 'package.json');
  if (existsSync(own)) found.push((JSON.parse(readFileSync(own, 'utf8')) as { version: string }).version);
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (!entry.isDirectory() || entry.name.startsWith('.')) continue;
    const packages = entry.name.startsWith('@') ? readdirSync(join(dir, entry.name)).map((n) => join(dir, entry.name, n)) : [join(dir, entry.name)];
    for (const p of packages) installed(name, join(p, 'node_modules'), found, depth + 1);
  }
  return found;
}

describe('security: dependencies past their advisories (S30)', () => {
  it('the tests can read versions (socket.io is installed)', () => {
    expect(installed('socket.io').length).to.be.above(0);
  });
  for (const [name, floor, why] of FLOORS) {
    it(`S30 every installed ${name} is ≥ ${floor}: ${why}`, () => {
      for (const version of installed(name)) expect(newer(version, floor), `${name}@${version}`).to.equal(true);
    });
  }
});
