import { randomUUID, webcrypto } from 'node:crypto';
import { SignJWT, jwtVerify, errors as joseErrors } from 'jose';
import { AppError } from '../domain/app-error.js';
import type { TokenRevocations } from '../ports/token-revocations.js';
import { SYSTEM_SENDER } from '../protocol/system-sender.js';

export interface AuthUser {
  id: string;
  name: string;
  guest: boolean;
}

export interface VerifiedToken {
  user: AuthUser;
  /** Unix milliseconds. */
  expiresAt: number;
}

/** What the cache keeps of a verified token: the answer, and `iat` for the revocation check. */
interface Remembered extends VerifiedToken {
  /** Unix seconds; null when the token has no `iat`. */
  issuedAt: number | null;
}

const ALGORITHM = 'HS256';
/** Verified tokens remembered (the oldest is dropped when full). */
const VERIFIED_CACHE_SIZE = 10_000;

/**
 * Issues and verifies HS256 JWTs. The algorithm is pinned (no `none`, no key confusion)
 * and `exp` is required: a token that never expires is refused.
 */
export class TokenService {
  /**
   * The HMAC key, imported once: handed raw bytes, jose imports a WebCrypto key on every
   * sign and verify (~20 µs each, measured on the connect path).
   */
  private readonly key: Promise<webcrypto.CryptoKey>;
  /**
   * Tokens that passed verification, with what they verified to. A client presents the same
   * token on each namespace and on every reconnect; a hit skips jose and the WebCrypto HMAC.
   * The signature of a given token under a given key never changes, so only the
   * clock-dependent claim is checked again: `exp`, exactly as jose checks it. Tokens carrying
   * `nbf` are not remembered.
   */
  private readonly verified = new Map<string, Remembered>();

  /**
   * `revocations` is checked on every verify, a cache hit included: a token remembered before
   * its user's revocation is refused like any other.
   */
  constructor(
    secret: string,
    private readonly ttlSeconds: number,
    private readonly revocations: Pick<TokenRevocations, 'revokedThrough'> | null = null,
  ) {
    this.key = webcrypto.subtle.importKey('raw', new TextEncoder().encode(secret), { name: 'HMAC', hash: 'SHA-256' }, false, ['sign', 'verify']);
    // A key that cannot be imported fails each sign and verify, as raw bytes would.
    this.key.catch(() => undefined);
  }

  async issueGuest(name: string): Promise<{ token: string; user: AuthUser }> {
    const user: AuthUser = { id: `guest_${randomUUID()}`, name, guest: true };
    return { token: await this.issue(user), user };
  }

  async issue(user: AuthUser, ttlSeconds = this.ttlSeconds): Promise<string> {
    return new SignJWT({ name: user.name, guest: user.guest })
      .setProtectedHeader({ alg: ALGORITHM, typ: 'JWT' })
      .setSubject(user.id)
      .setIssuedAt()
      .setExpirationTime(Math.floor(Date.now() / 1000) + ttlSeconds)
      .sign(await this.key);
  }

  async verify(token: unknown): Promise<VerifiedToken> {
    if (typeof token !== 'string' || token.length === 0) throw new AppError('UNAUTHORIZED', 'a bearer token is required');
    if (token.length > 8192) throw new AppError('UNAUTHORIZED', 'token is too long');
    const known = this.verified.get(token);
    if (known) {
      // jose: expired when exp <= now, both in whole seconds.
      if (known.expiresAt / 1000 > Math.floor(Date.now() / 1000)) {
        this.refuseIfRevoked(known);
        return { user: { ...known.user }, expiresAt: known.expiresAt };
      }
      this.verified.delete(token);
    }
    try {
      const { payload } = await jwtVerify(token, await this.key, { algorithms: [ALGORITHM], requiredClaims: ['exp', 'sub'] });
      const sub = payload.sub!;
      if (sub.length === 0 || sub.length > 128) throw new AppError('UNAUTHORIZED', 'token subject is invalid');
      // The name operator messages are sent under (SYSTEM_SENDER): nobody may act as it.
      if (sub === SYSTEM_SENDER.id) throw new AppError('UNAUTHORIZED', 'token subject is reserved');
      const name = typeof payload.name === 'string' && payload.name.length > 0 ? payload.name.slice(0, 64) : sub;
      const result: Remembered = {
        user: { id: sub, name, guest: payload.guest === true },
        expiresAt: payload.exp! * 1000,
        issuedAt: typeof payload.iat === 'number' ? payload.iat : null,
      };
      // Remembered even when revoked: the check runs on every hit, and a hit is cheaper.
      if (payload.nbf === undefined) this.remember(token, result);
      this.refuseIfRevoked(result);
      return { user: { ...result.user }, expiresAt: result.expiresAt };
    } catch (error) {
      if (error instanceof AppError) throw error;
      if (error instanceof joseErrors.JWTExpired) throw new AppError('UNAUTHORIZED', 'token has expired');
      if (error instanceof joseErrors.JOSEError) throw new AppError('UNAUTHORIZED', 'token is invalid');
      throw error;
    }
  }

  /**
   * A token issued in or before its user's revocation second is refused (`iat` has whole
   * seconds: one issued in that second may predate the revocation). Without `iat` its age is
   * unknown, so it counts as older than any revocation.
   */
  private refuseIfRevoked(token: Remembered): void {
    const revoked = this.revocations?.revokedThrough(token.user.id) ?? null;
    if (revoked !== null && (token.issuedAt === null || token.issuedAt <= revoked)) {
      throw new AppError('UNAUTHORIZED', 'token has been revoked; sign in again');
    }
  }

  private remember(token: string, result: Remembered): void {
    if (this.verified.size >= VERIFIED_CACHE_SIZE) this.verified.delete(this.verified.keys().next().value!);
    this.verified.set(token, result);
  }
}
