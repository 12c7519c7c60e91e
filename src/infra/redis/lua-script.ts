import { createHash } from 'node:crypto';
import type { RedisClient, RedisClusterClient } from './redis-client.js';

/**
 * A Lua script run by EVALSHA, loaded with EVAL the first time a server lacks it. On a
 * cluster client the command goes to the master of its first key's slot (every key of a
 * script must be in that slot).
 */
export class LuaScript {
  private readonly sha: string;

  constructor(private readonly source: string) {
    this.sha = createHash('sha1').update(source).digest('hex');
  }

  async run(client: RedisClient | RedisClusterClient, keys: string[], args: (string | number)[]): Promise<unknown> {
    const tail = [String(keys.length), ...keys, ...args.map(String)];
    try {
      return await send(client, keys[0], ['EVALSHA', this.sha, ...tail]);
    } catch (err) {
      if (!String((err as Error).message).startsWith('NOSCRIPT')) throw err;
      return send(client, keys[0], ['EVAL', this.source, ...tail]);
    }
  }
}

/** `sendCommand` differs: a cluster client is told the key that routes the command. */
function send(client: RedisClient | RedisClusterClient, firstKey: string | undefined, args: string[]): Promise<unknown> {
  return isCluster(client) ? client.sendCommand(firstKey, false, args) : client.sendCommand(args);
}

const isCluster = (client: RedisClient | RedisClusterClient): client is RedisClusterClient => 'getSlotMaster' in client;
