import { expect } from 'chai';
import { describeWithRedis } from '../helpers/cluster.js';
import { crc16, keySlot } from '../helpers/redis-slot.js';
import { useRedis } from '../helpers/redis-server.js';
import { CommandRecording, crossSlotSteps, parseMonitorLine } from '../helpers/redis-steps.js';

describe('Redis Cluster hash slots (the test helper that finds cross-slot steps)', () => {
  it('computes CRC16/XMODEM and the slots the cluster specification gives', () => {
    expect(crc16(Buffer.from('123456789'))).to.equal(0x31c3);
    // Values from CLUSTER KEYSLOT on a real cluster.
    expect(keySlot('foo')).to.equal(12182);
    expect(keySlot('somekey')).to.equal(11058);
  });

  it('hashes only the tag of a key that has one, and the whole key for an empty tag', () => {
    expect(keySlot('chat:{room-1}:seq')).to.equal(keySlot('room-1'));
    expect(keySlot('{user1000}.following')).to.equal(keySlot('{user1000}.followers'));
    expect(keySlot('foo{}{bar}')).to.equal(crc16(Buffer.from('foo{}{bar}')) % 16384);
    expect(keySlot('foo{{bar}}zap')).to.equal(keySlot('{bar'));
  });

  it('reads MONITOR lines, escapes included', () => {
    const line = String.raw`1796229738.197042 [0 127.0.0.1:58016] "SET" "a \"q\"\n" "v\\1" "Zo\xc3\xab"`;
    expect(parseMonitorLine(line)).to.deep.equal({ client: '127.0.0.1:58016', args: ['SET', 'a "q"\n', 'v\\1', 'Zoë'].map((a) => Buffer.from(a)) });
  });

  describeWithRedis('against a real redis-server', () => {
    const redis = useRedis();

    it('flags a multi-key command, a MULTI and a script whose keys are in two slots, and nothing else', async () => {
      const recording = await CommandRecording.start(redis);
      await redis.client.del(['a', 'b']);
      await redis.client.multi().set('{r}:x', '1').set('{s}:y', '1').exec();
      await redis.client.eval(`redis.call('SET', KEYS[1], 1); return redis.call('GET', 'elsewhere')`, { keys: ['{r}:z'] });
      await redis.client.multi().set('{r}:x', '1').set('{r}:y', '1').exec();
      await redis.client.eval(`return redis.call('GET', KEYS[1])`, { keys: ['{r}:z'] });
      await redis.client.mGet(['{r}:x', '{r}:y']);
      const crossing = await crossSlotSteps(redis.client, await recording.stop(redis));
      expect(crossing).to.have.length(3);
      expect(crossing[0]).to.match(/^DEL a b$/);
      expect(crossing[1]).to.match(/^SET \{r\}:x 1 ; SET \{s\}:y 1$/);
      expect(crossing[2]).to.match(/^EVAL .* ; SET \{r\}:z 1 ; GET elsewhere$/);
    });
  });
});
