import { expect } from 'chai';
import { MemoryCallMarks } from '../../src/infra/memory/memory-call-marks.js';
import { MemoryLobby } from '../../src/infra/memory/memory-lobby.js';
import { RedisCallMarks } from '../../src/infra/redis/redis-call-marks.js';
import { RedisLobby } from '../../src/infra/redis/redis-lobby.js';
import type { CallMarks } from '../../src/ports/call-marks.js';
import type { Lobby, LobbyRequest } from '../../src/ports/lobby.js';
import { describeWithRedis } from '../helpers/cluster.js';
import { useRedis } from '../helpers/redis-server.js';

/**
 * The contracts of CallMarks (what the call webhooks decide with) and Lobby (knocks and
 * admissions), for the process-local and the Redis implementations. Two handles on one
 * Redis stand for two nodes: every take has exactly one winner.
 */
function registerCallMarksContract(name: string, open: () => CallMarks) {
  describe(`CallMarks contract: ${name}`, () => {
    it('a call starts once and ends once, with one id; then a new one may start', async () => {
      const [a, b] = [open(), open()];
      const started = await Promise.all([a.startCall('r1'), b.startCall('r1')]);
      const id = started.find((s) => s !== null)!;
      expect(started.filter((s) => s !== null)).to.deep.equal([id]);
      const ended = await Promise.all([a.endCall('r1'), b.endCall('r1')]);
      expect(ended.filter((s) => s !== null)).to.deep.equal([id]);
      expect(await a.startCall('r1')).to.be.a('string').and.not.equal(id);
    });

    it('a user enters once (one participation id) and exit counts who is left', async () => {
      const [a, b] = [open(), open()];
      const entered = await Promise.all([a.enter('r1', 'ann'), b.enter('r1', 'ann')]);
      const id = entered.find((e) => e !== null)!;
      expect(entered.filter((e) => e !== null)).to.deep.equal([id]);
      expect(await b.participation('r1', 'ann')).to.equal(id);
      await a.enter('r1', 'bob');
      expect(await a.exit('r1', 'ann')).to.equal(1);
      expect(await b.participation('r1', 'ann')).to.equal(null);
      expect(await b.exit('r1', 'bob')).to.equal(0);
      expect(await b.exit('r1', 'bob')).to.equal(0);
    });

    it('an away mark is taken once: by the return, or by the sweep once due, never both', async () => {
      const [a, b] = [open(), open()];
      const now = Date.now();
      await a.markAway({ roomId: 'r1', userId: 'ann', name: 'Ann' }, now + 60_000);
      await a.markAway({ roomId: 'r1', userId: 'bob', name: 'Bob' }, now - 1);
      expect(await b.takeDue(now, 10)).to.deep.equal([{ roomId: 'r1', userId: 'bob', name: 'Bob' }]);
      expect(await a.takeDue(now, 10)).to.deep.equal([]);
      expect(await a.comeBack('r1', 'bob')).to.equal(false);
      const back = await Promise.all([a.comeBack('r1', 'ann'), b.comeBack('r1', 'ann')]);
      expect(back.filter(Boolean)).to.have.length(1);
      expect(await a.takeDue(now + 120_000, 10)).to.deep.equal([]);
    });
  });
}

function registerLobbyContract(name: string, open: () => Lobby) {
  const knock = (requestId: string, createdAt: number): LobbyRequest => ({ requestId, roomId: 'r1', userId: `u-${requestId}`, name: 'N', peerId: `p-${requestId}`, createdAt });
  describe(`Lobby contract: ${name}`, () => {
    it('keeps knocks oldest first until one taker takes each; clear forgets the room', async () => {
      const [a, b] = [open(), open()];
      await a.knock(knock('k2', 2));
      await b.knock(knock('k1', 1));
      expect((await b.pending('r1')).map((r) => r.requestId)).to.deep.equal(['k1', 'k2']);
      const taken = await Promise.all([a.take('r1', 'k1'), b.take('r1', 'k1')]);
      expect(taken.filter((t) => t !== null)).to.deep.equal([knock('k1', 1)]);
      expect(await a.take('r1', 'nope')).to.equal(null);
      await a.admit('r1', 'ann', 60_000);
      await a.clear('r1');
      expect(await b.pending('r1')).to.deep.equal([]);
      expect(await b.isAdmitted('r1', 'ann')).to.equal(false);
    });

    it('an admission holds for its time, for that room only', async () => {
      const [a, b] = [open(), open()];
      await a.admit('r2', 'ann', 60_000);
      await a.admit('r2', 'bob', -1);
      expect(await b.isAdmitted('r2', 'ann')).to.equal(true);
      expect(await b.isAdmitted('r2', 'bob')).to.equal(false);
      expect(await b.isAdmitted('r3', 'ann')).to.equal(false);
    });
  });
}

const sharedMemory = <T>(make: () => T) => {
  let one: T | null = null;
  return { reset: () => (one = null), open: () => (one ??= make()) };
};
const memoryMarks = sharedMemory(() => new MemoryCallMarks());
const memoryLobby = sharedMemory(() => new MemoryLobby());
describe('call marks and lobby in memory (one process: both handles are one object)', () => {
  beforeEach(() => {
    memoryMarks.reset();
    memoryLobby.reset();
  });
  registerCallMarksContract('memory', memoryMarks.open);
  registerLobbyContract('memory', memoryLobby.open);
});

describeWithRedis('call marks and lobby in Redis', () => {
  const redis = useRedis();
  registerCallMarksContract('Redis', () => new RedisCallMarks(redis.client));
  registerLobbyContract('Redis', () => new RedisLobby(redis.client));
});
