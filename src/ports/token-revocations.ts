/**
 * Revoked tokens, by user: every token of a user issued in or before the user's revocation
 * second (`iat` ≤ it) is refused, and so is a token of that user without `iat`. Consulted on
 * every handshake and every REST call, so the read is a synchronous lookup in a view each
 * node keeps in memory; `revoke` persists the revocation and tells every node.
 */
export interface TokenRevocations {
  /**
   * Tokens of `userId` issued at or before `second` (Unix seconds) are refused from now on.
   * Resolves once the revocation is durable and this node refuses them; a later second moves
   * it forward, an earlier one changes nothing.
   */
  revoke(userId: string, second: number): Promise<void>;
  /** The user's revocation second, or null when the user has none. */
  revokedThrough(userId: string): number | null;
  /** Loads the revocations made so far (and starts hearing of other nodes' revocations). */
  start(): Promise<void>;
  stop(): Promise<void>;
}

/** The user's revocation second in `view`, moved forward to `second` if that is later. */
export function applyRevocation(view: Map<string, number>, userId: string, second: number): void {
  const known = view.get(userId);
  if (known === undefined || second > known) view.set(userId, second);
}
