import type { ConnectionCounter } from '../../ports/realtime.js';

/** Connection caps for one process. */
export class MemoryConnectionCounter implements ConnectionCounter {
  private readonly byUser = new Map<string, number>();
  private readonly byIp = new Map<string, number>();

  constructor(
    private readonly maxPerUser: number,
    private readonly maxPerIp: number,
  ) {}

  async acquire(userId: string, ip: string, _connId: string): Promise<'ok' | 'user' | 'ip'> {
    if ((this.byUser.get(userId) ?? 0) >= this.maxPerUser) return 'user';
    if ((this.byIp.get(ip) ?? 0) >= this.maxPerIp) return 'ip';
    bump(this.byUser, userId, 1);
    bump(this.byIp, ip, 1);
    return 'ok';
  }

  async release(userId: string, ip: string, _connId: string): Promise<void> {
    bump(this.byUser, userId, -1);
    bump(this.byIp, ip, -1);
  }
}

function bump(map: Map<string, number>, key: string, by: number): void {
  const next = (map.get(key) ?? 0) + by;
  if (next <= 0) map.delete(key);
  else map.set(key, next);
}
