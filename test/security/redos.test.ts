import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';
import ts from 'typescript';
import { buildSchemas, IdSchema, NameSchema } from '../../src/protocol/schemas.js';
import { textProblem } from '../../src/protocol/text-rules.js';
import { guest, request } from '../helpers/http-client.js';
import { expectError, startSecure, watchProcessFaults, type SecureServer } from './harness.js';

/**
 * S22: no validator backtracks on adversarial input. Every regular expression in src/ is
 * found with the TypeScript parser, checked for the shapes that backtrack exponentially
 * (a quantified group holding a quantifier or an alternation), and timed against long
 * adversarial strings; every schema and the Authorization header are timed the same way.
 */

const SRC = fileURLToPath(new URL('../../src/', import.meta.url));
/** Generous for a busy CI machine; a backtracking regex on these inputs takes seconds or more. */
const BUDGET_MS = 50;

function tsFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? tsFiles(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : [],
  );
}

interface Found {
  where: string;
  regex: RegExp;
}

/** Every regular-expression literal in src/, with its file and line. */
function regexLiterals(): Found[] {
  const found: Found[] = [];
  for (const file of tsFiles(SRC)) {
    const source = ts.createSourceFile(file, readFileSync(file, 'utf8'), ts.ScriptTarget.Latest, true);
    const visit = (node: ts.Node) => {
      if (node.kind === ts.SyntaxKind.RegularExpressionLiteral) {
        const text = node.getText(source);
        const end = text.lastIndexOf('/');
        const { line } = source.getLineAndCharacterOfPosition(node.getStart(source));
        found.push({ where: `${relative(SRC, file)}:${line + 1}`, regex: new RegExp(text.slice(1, end), text.slice(end + 1)) });
      }
      ts.forEachChild(node, visit);
    };
    visit(source);
  }
  return found;
}

/**
 * True when the pattern has a group that is repeated without bound (`*`, `+`, `{n,}`) and
 * itself holds a quantifier or an alternation: `(a+)+`, `(a|a)*`, `(\w+\s?)*`. Those are
 * the shapes whose matching time can grow exponentially.
 */
function nestedQuantifier(pattern: string): boolean {
  const stack: Array<{ quantified: boolean; alternation: boolean }> = [];
  let inClass = false;
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i];
    if (c === '\\') {
      i++;
      continue;
    }
    if (inClass) {
      if (c === ']') inClass = false;
      continue;
    }
    if (c === '[') inClass = true;
    else if (c === '(') stack.push({ quantified: false, alternation: false });
    else if (c === '|' && stack.length) stack.at(-1)!.alternation = true;
    else if ((c === '*' || c === '+' || c === '{') && stack.length) stack.at(-1)!.quantified = true;
    else if (c === ')') {
      const group = stack.pop();
      const after = pattern.slice(i + 1);
      const unbounded = /^(\*|\+|\{\d+,\})/.test(after);
      if (group && unbounded && (group.quantified || group.alternation)) return true;
      if (group?.quantified && stack.length) stack.at(-1)!.quantified = true;
    }
  }
  return false;
}

/** Long strings built to make a backtracking matcher try every split, each ending in a mismatch. */
function adversarialInputs(n = 30_000): string[] {
  const units = ['a', '0', ' ', '\t', '\n', '/', '-', '.', '_', ',', 'aa', 'a ', '0.', 'Bearer ', '\u00e9', '😀'];
  return [...units.map((u) => u.repeat(Math.ceil(n / u.length)) + '!\u0000'), 'Bearer ' + 'a'.repeat(n) + ' x', 'x'.repeat(n)];
}

function timed(fn: () => unknown): number {
  const started = process.hrtime.bigint();
  fn();
  return Number(process.hrtime.bigint() - started) / 1e6;
}

describe('security: ReDoS (S22)', function () {
  watchProcessFaults();

  it('S22 src/ builds no regular expression at run time (so the literal scan below sees them all)', () => {
    for (const file of tsFiles(SRC)) {
      expect(readFileSync(file, 'utf8'), relative(SRC, file)).not.to.match(/new RegExp\(|RegExp\(/);
    }
  });

  it('S22 no regular expression in src/ has a nested or alternating unbounded quantifier', () => {
    const found = regexLiterals();
    expect(found.length, 'the scan found the regexes').to.be.above(5);
    // The detector itself catches the classic shapes.
    for (const bad of ['(a+)+', '(a|a)*', '(\\w+\\s?)*$', '^(([a-z])+.)+[A-Z]([a-z])+$', '(x+x+){2,}y']) {
      expect(nestedQuantifier(bad), bad).to.equal(true);
    }
    for (const ok of ['^\\d{1,16}$', '^Bearer ([^\\s]+)$', '[\\r\\n\\t]', '^(a|b)$', '^(ab)+$']) expect(nestedQuantifier(ok), ok).to.equal(false);
    for (const { where, regex } of found) expect(nestedQuantifier(regex.source), `${where} ${regex}`).to.equal(false);
  });

  it(`S22 every regular expression in src/ runs in < ${BUDGET_MS} ms on 30 000-character adversarial input`, () => {
    const inputs = adversarialInputs();
    for (const { where, regex } of regexLiterals()) {
      for (const input of inputs) {
        const flags = regex.flags.replace('g', '').replace('y', '');
        const re = new RegExp(regex.source, flags);
        const ms = timed(() => re.test(input) || input.replace(new RegExp(regex.source, flags + 'g'), ''));
        expect(ms, `${where} ${regex} on ${JSON.stringify(input.slice(0, 12))}…`).to.be.below(BUDGET_MS);
      }
    }
  });

  it(`S22 every inbound schema and the text rules validate 60 000-character adversarial input in < ${BUDGET_MS} ms`, () => {
    const schemas = buildSchemas();
    const inputs = adversarialInputs(60_000);
    for (const input of inputs) {
      for (const [name, schema] of Object.entries(schemas)) {
        const shaped = [input, { roomId: input, text: input, clientMsgId: input, name: input, userId: input, to: input, kind: 'offer', data: { type: 'offer', sdp: input } }];
        for (const value of shaped) expect(timed(() => schema.safeParse(value)), `${name}`).to.be.below(BUDGET_MS);
      }
      expect(timed(() => IdSchema.safeParse(input))).to.be.below(BUDGET_MS);
      expect(timed(() => NameSchema.safeParse(input))).to.be.below(BUDGET_MS);
      expect(timed(() => textProblem(input, 4000))).to.be.below(BUDGET_MS);
    }
  });

  describe('over HTTP', function () {
    let server: SecureServer;
    before(async () => {
      server = await startSecure({ RATE_LIMIT_HTTP: '100000' });
    });
    after(async () => {
      await server?.stop();
    });

    it('S22 adversarial Authorization headers, texts and query values are answered within 500 ms', async () => {
      const { token } = await guest(server.url, 'redos');
      for (const authorization of ['Bearer ' + 'a'.repeat(7000) + ' ', 'Bearer ' + ' '.repeat(7000) + 'x', 'Bearer' + '\t'.repeat(7000)]) {
        const started = Date.now();
        expectError(await request(server.url, 'GET', '/api/ice-servers', { headers: { authorization } }), 401, 'UNAUTHORIZED');
        expect(Date.now() - started).to.be.below(500);
      }
      for (const text of ['a'.repeat(60_000) + '\u0000', ' \t'.repeat(30_000), '😀'.repeat(15_000) + '\ud800']) {
        const started = Date.now();
        const res = await request(server.url, 'POST', '/api/messages', { token, body: { roomId: 'r', text } });
        expect(res.status).to.be.oneOf([400, 413]);
        expect(Date.now() - started).to.be.below(500);
      }
      const started = Date.now();
      expectError(await request(server.url, 'GET', `/api/messages?roomId=r&limit=${'9'.repeat(5000)}x`, { token }), 400, 'VALIDATION_FAILED');
      expect(Date.now() - started).to.be.below(500);
    });
  });
});
