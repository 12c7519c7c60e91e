import { randomUUID } from 'node:crypto';
import type { AwayUser, CallMarks } from '../../ports/call-marks.js';
import type { RedisClient } from './redis-client.js';
import { keys } from './redis-keys.js';

const member = (roomId: string, userId: string) => `${roomId}\n${userId}`;

/**
 * Call marks in Redis. A room's running call is one key in the room's slot (SET NX starts it,
 * GETDEL ends it: one winner each), its participants one hash beside it (HSETNX enters). Users away from calls are members of one sorted set,
 * scored by when they count as gone, with their names in a hash beside it (same slot); ZREM
 * is the atomic take, for a return as for the sweep of any node, so a node that dies with
 * users away leaves them to the others.
 */
export class RedisCallMarks implements CallMarks {
  constructor(private readonly redis: RedisClient) {}

  async startCall(roomId: string): Promise<string | null> {
    const id = randomUUID();
    const set = await this.redis.set(keys.callInstance(roomId), id, { condition: 'NX' });
    return set === 'OK' ? id : null;
  }

  async endCall(roomId: string): Promise<string | null> {
    return (await this.redis.getDel(keys.callInstance(roomId))) ?? null;
  }

  async enter(roomId: string, userId: string): Promise<string | null> {
    const id = randomUUID();
    return (await this.redis.hSetNX(keys.callParticipants(roomId), userId, id)) ? id : null;
  }

  async participation(roomId: string, userId: string): Promise<string | null> {
    return (await this.redis.hGet(keys.callParticipants(roomId), userId)) ?? null;
  }

  async exit(roomId: string, userId: string): Promise<number> {
    const key = keys.callParticipants(roomId);
    // One MULTI (one slot): the count is the one right after this exit.
    const [, left] = (await this.redis.multi().hDel(key, userId).hLen(key).exec()) as unknown as [number, number];
    return Number(left);
  }

  async markAway(user: AwayUser, dueAt: number): Promise<void> {
    const m = member(user.roomId, user.userId);
    await this.redis.multi().hSet(keys.callsAwayNames, m, user.name).zAdd(keys.callsAway, { score: dueAt, value: m }).exec();
  }

  async comeBack(roomId: string, userId: string): Promise<boolean> {
    const m = member(roomId, userId);
    if ((await this.redis.zRem(keys.callsAway, m)) !== 1) return false;
    await this.redis.hDel(keys.callsAwayNames, m);
    return true;
  }

  async takeDue(now: number, limit: number): Promise<AwayUser[]> {
    const due = await this.redis.zRangeByScore(keys.callsAway, '-inf', now, { LIMIT: { offset: 0, count: limit } });
    const taken: AwayUser[] = [];
    for (const m of due) {
      if ((await this.redis.zRem(keys.callsAway, m)) !== 1) continue;
      const [roomId = '', userId = ''] = m.split('\n');
      const name = (await this.redis.hGet(keys.callsAwayNames, m)) ?? userId;
      await this.redis.hDel(keys.callsAwayNames, m);
      taken.push({ roomId, userId, name });
    }
    return taken;
  }
}
