import { createHash } from 'node:crypto';
import { sendRaw, type RedisClient, type RedisClusterClient } from './redis-client.js';

/**
 * A Lua script run by EVALSHA, loaded with EVAL the first time a server lacks it (after a
 * Sentinel failover, the promoted replica may lack it). On a cluster client the command goes
 * to the master of its first key's slot (every key of a script must be in that slot).
 */
export class LuaScript {
  private readonly sha: string;

  constructor(private readonly source: string) {
    this.sha = createHash('sha1').update(source).digest('hex');
  }

  async run(client: RedisClient | RedisClusterClient, keys: string[], args: (string | number)[]): Promise<unknown> {
    const tail = [String(keys.length), ...keys, ...args.map(String)];
    try {
      return await sendRaw(client, keys[0], ['EVALSHA', this.sha, ...tail]);
    } catch (err) {
      if (!String((err as Error).message).startsWith('NOSCRIPT')) throw err;
      return sendRaw(client, keys[0], ['EVAL', this.source, ...tail]);
    }
  }
}
