import { createHmac } from 'node:crypto';
import type { IceServer } from '../protocol/models.js';

export interface IceConfig {
  stunUrls: string[];
  turnUrls: string[];
  turnSecret: string | null;
  turnTtlSeconds: number;
}

/**
 * ICE servers for a user: STUN as configured, and TURN with time-limited credentials in
 * coturn's REST format (`use-auth-secret`): username "<expiry>:<userId>", credential
 * base64(HMAC-SHA1(secret, username)). The secret itself never leaves the server.
 */
export class IceService {
  constructor(private readonly config: IceConfig) {}

  forUser(userId: string, now = Date.now()): { iceServers: IceServer[]; expiresAt: string } {
    const expiry = Math.floor(now / 1000) + this.config.turnTtlSeconds;
    const iceServers: IceServer[] = [];
    if (this.config.stunUrls.length) iceServers.push({ urls: this.config.stunUrls });
    if (this.config.turnUrls.length && this.config.turnSecret) {
      const username = `${expiry}:${userId}`;
      const credential = createHmac('sha1', this.config.turnSecret).update(username).digest('base64');
      iceServers.push({ urls: this.config.turnUrls, username, credential });
    }
    return { iceServers, expiresAt: new Date(expiry * 1000).toISOString() };
  }
}
