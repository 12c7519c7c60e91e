import { SignJWT } from 'jose';

/** A token signed with `secret`, with the claims a test needs, as another issuer would make it (`iat: null`: none). */
export async function signToken(secret: string, sub: string, claims: { iat?: number | null; name?: string } = {}): Promise<string> {
  const jwt = new SignJWT({ name: claims.name ?? sub }).setProtectedHeader({ alg: 'HS256', typ: 'JWT' }).setSubject(sub);
  if (claims.iat !== null) jwt.setIssuedAt(claims.iat ?? Math.floor(Date.now() / 1000));
  return jwt.setExpirationTime(Math.floor(Date.now() / 1000) + 3600).sign(new TextEncoder().encode(secret));
}

/** Resolves early in the next whole second (`iat` has whole seconds). */
export async function nextSecond(): Promise<void> {
  await new Promise((resolve) => setTimeout(resolve, 1000 - (Date.now() % 1000) + 5));
}
