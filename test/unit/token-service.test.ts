import { expect } from 'chai';
import { SignJWT } from 'jose';
import { AppError } from '../../src/domain/app-error.js';
import { TokenService } from '../../src/services/token-service.js';

const SECRET = 'token-service-test-secret-0123456789abcdef';
const key = new TextEncoder().encode(SECRET);
const b64url = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
const inOneHour = () => Math.floor(Date.now() / 1000) + 3600;

/** Verifies and returns the AppError it must throw. */
async function refused(tokens: TokenService, token: unknown): Promise<AppError> {
  try {
    await tokens.verify(token);
  } catch (err) {
    expect(err).to.be.instanceOf(AppError);
    return err as AppError;
  }
  throw new Error('expected the token to be refused');
}

describe('TokenService', () => {
  const tokens = new TokenService(SECRET, 3600);

  it('round-trips a guest token with its user and expiry', async () => {
    const { token, user } = await tokens.issueGuest('Ada');
    expect(user.name).to.equal('Ada');
    expect(user.guest).to.equal(true);
    const verified = await tokens.verify(token);
    expect(verified.user).to.deep.equal(user);
    const expected = Date.now() + 3600 * 1000;
    expect(verified.expiresAt).to.be.within(expected - 5000, expected + 1000);
  });

  it('gives each guest a distinct id', async () => {
    const a = await tokens.issueGuest('same');
    const b = await tokens.issueGuest('same');
    expect(a.user.id).to.not.equal(b.user.id);
  });

  it('refuses a token signed with another secret', async () => {
    const other = new TokenService('another-secret-entirely-0123456789abcdef', 3600);
    const { token } = await other.issueGuest('Mallory');
    expect((await refused(tokens, token)).code).to.equal('UNAUTHORIZED');
  });

  it('refuses an expired token', async () => {
    const token = await tokens.issue({ id: 'u1', name: 'Old', guest: true }, -60);
    expect((await refused(tokens, token)).code).to.equal('UNAUTHORIZED');
  });

  it('refuses a token it verified before once that token has expired, with the same answer', async function () {
    this.timeout(6000);
    // exp is in whole seconds: a ttl of 2 leaves at least one second to verify it twice, where
    // a ttl of 1 could expire at once when issued at the end of a second.
    const token = await tokens.issue({ id: 'u-short', name: 'Brief', guest: true }, 2);
    const first = await tokens.verify(token);
    first.user.name = 'mutated by a caller';
    expect((await tokens.verify(token)).user.name).to.equal('Brief');
    await new Promise((r) => setTimeout(r, first.expiresAt - Date.now() + 50));
    const err = await refused(tokens, token);
    expect(err.code).to.equal('UNAUTHORIZED');
    expect(err.message).to.equal('token has expired');
  });

  it("refuses an unsigned alg:none token", async () => {
    const token = `${b64url({ alg: 'none', typ: 'JWT' })}.${b64url({ sub: 'admin', name: 'Admin', exp: inOneHour() })}.`;
    expect((await refused(tokens, token)).code).to.equal('UNAUTHORIZED');
  });

  it('refuses a token signed with the right secret under another algorithm', async () => {
    const token = await new SignJWT({ name: 'x' }).setProtectedHeader({ alg: 'HS512' }).setSubject('u1').setExpirationTime(inOneHour()).sign(key);
    expect((await refused(tokens, token)).code).to.equal('UNAUTHORIZED');
  });

  it('refuses a token without exp', async () => {
    const token = await new SignJWT({ name: 'forever' }).setProtectedHeader({ alg: 'HS256' }).setSubject('u1').setIssuedAt().sign(key);
    expect((await refused(tokens, token)).code).to.equal('UNAUTHORIZED');
  });

  it('refuses a token without sub', async () => {
    const token = await new SignJWT({ name: 'nobody' }).setProtectedHeader({ alg: 'HS256' }).setExpirationTime(inOneHour()).sign(key);
    expect((await refused(tokens, token)).code).to.equal('UNAUTHORIZED');
  });

  it('refuses a tampered payload', async () => {
    const { token } = await tokens.issueGuest('Eve');
    const [header, , signature] = token.split('.');
    const forged = `${header}.${b64url({ sub: 'someone-else', name: 'Eve', exp: inOneHour() })}.${signature}`;
    expect((await refused(tokens, forged)).code).to.equal('UNAUTHORIZED');
  });

  it('refuses garbage, empty and non-string tokens', async () => {
    for (const bad of ['', 'garbage', 'a.b.c', 'x'.repeat(10000), undefined, null, 42, { token: 'x' }]) {
      expect((await refused(tokens, bad)).code, JSON.stringify(bad)?.slice(0, 20)).to.equal('UNAUTHORIZED');
    }
  });
});

describe('TokenService: revocations and the reserved subject', () => {
  const revoked = new Map<string, number>();
  const tokens = new TokenService(SECRET, 3600, { revokedThrough: (userId) => revoked.get(userId) ?? null });
  const now = () => Math.floor(Date.now() / 1000);
  const sign = (sub: string, iat: number | null) => {
    const jwt = new SignJWT({ name: sub }).setProtectedHeader({ alg: 'HS256' }).setSubject(sub).setExpirationTime(inOneHour());
    if (iat !== null) jwt.setIssuedAt(iat);
    return jwt.sign(key);
  };
  beforeEach(() => revoked.clear());

  it('refuses a token issued in or before the revoking second, a remembered one too', async () => {
    const token = await sign('u1', now() - 10);
    await tokens.verify(token); // remembered
    revoked.set('u1', now() - 10);
    expect((await refused(tokens, token)).message).to.match(/revoked/);
    const fresh = await sign('u1', now() - 10);
    expect((await refused(tokens, fresh)).code).to.equal('UNAUTHORIZED');
  });

  it('accepts a token issued after the revoking second, and other users', async () => {
    revoked.set('u1', now() - 10);
    expect((await tokens.verify(await sign('u1', now() - 9))).user.id).to.equal('u1');
    expect((await tokens.verify(await sign('u2', now() - 100))).user.id).to.equal('u2');
  });

  it('counts a token without iat as older than any revocation', async () => {
    const token = await sign('u1', null);
    expect((await tokens.verify(token)).user.id).to.equal('u1');
    revoked.set('u1', 0);
    expect((await refused(tokens, token)).message).to.match(/revoked/);
  });

  it('refuses the subject "system", the sender of operator messages', async () => {
    const err = await refused(tokens, await sign('system', now()));
    expect(err.code).to.equal('UNAUTHORIZED');
    expect(err.message).to.match(/reserved/);
  });
});
