import type { ConnectionCounter } from '../../ports/realtime.js';

/**
 * Connection caps for one process. A slot belongs to a connection (`connId`), as in Redis:
 * releasing it twice, or releasing a connection that was refused, frees no one else's slot.
 */
export class MemoryConnectionCounter implements ConnectionCounter {
  private readonly byUser = new Map<string, Set<string>>();
  private readonly byIp = new Map<string, Set<string>>();

  constructor(
    private readonly maxPerUser: number,
    private readonly maxPerIp: number,
  ) {}

  async acquire(userId: string, ip: string, connId: string): Promise<'ok' | 'user' | 'ip'> {
    if ((this.byUser.get(userId)?.size ?? 0) >= this.maxPerUser) return 'user';
    if ((this.byIp.get(ip)?.size ?? 0) >= this.maxPerIp) return 'ip';
    add(this.byUser, userId, connId);
    add(this.byIp, ip, connId);
    return 'ok';
  }

  async release(userId: string, ip: string, connId: string): Promise<void> {
    remove(this.byUser, userId, connId);
    remove(this.byIp, ip, connId);
  }
}

function add(map: Map<string, Set<string>>, key: string, connId: string): void {
  const held = map.get(key);
  if (held) held.add(connId);
  else map.set(key, new Set([connId]));
}

function remove(map: Map<string, Set<string>>, key: string, connId: string): void {
  const held = map.get(key);
  if (held?.delete(connId) && held.size === 0) map.delete(key);
}
