import { expect } from 'chai';
import { createHmac } from 'node:crypto';
import { IceService } from '../../src/services/ice-service.js';

const TURN_SECRET = 'turn-shared-secret-0123456789';

describe('IceService', () => {
  const now = Date.UTC(2030, 0, 1, 12, 0, 0);

  it('gives TURN credentials in the coturn REST format', () => {
    const ice = new IceService({
      stunUrls: ['stun:stun.example:3478'],
      turnUrls: ['turn:turn.example:3478?transport=udp', 'turns:turn.example:5349'],
      turnSecret: TURN_SECRET,
      turnTtlSeconds: 3600,
    });
    const { iceServers, expiresAt } = ice.forUser('user-42', now);
    const expiry = Math.floor(now / 1000) + 3600;
    const turn = iceServers.find((s) => s.username !== undefined);
    expect(turn, 'a TURN entry').to.not.equal(undefined);
    expect(turn!.urls).to.deep.equal(['turn:turn.example:3478?transport=udp', 'turns:turn.example:5349']);
    expect(turn!.username).to.equal(`${expiry}:user-42`);
    const expected = createHmac('sha1', TURN_SECRET).update(`${expiry}:user-42`).digest('base64');
    expect(turn!.credential).to.equal(expected);
    expect(expiresAt).to.equal(new Date(expiry * 1000).toISOString());
    // The secret itself is never handed out.
    expect(JSON.stringify(iceServers)).not.to.contain(TURN_SECRET);
  });

  it('sets the expiry to now + TTL in Unix seconds', () => {
    const ice = new IceService({ stunUrls: [], turnUrls: ['turn:t.example'], turnSecret: TURN_SECRET, turnTtlSeconds: 14400 });
    const at = now + 999; // sub-second part is dropped
    const { iceServers, expiresAt } = ice.forUser('u', at);
    const expiry = Math.floor(at / 1000) + 14400;
    expect(iceServers[0]!.username).to.equal(`${expiry}:u`);
    expect(Date.parse(expiresAt)).to.equal(expiry * 1000);
  });

  it('gives different credentials to different users', () => {
    const ice = new IceService({ stunUrls: [], turnUrls: ['turn:t.example'], turnSecret: TURN_SECRET, turnTtlSeconds: 60 });
    const a = ice.forUser('alice', now).iceServers[0]!;
    const b = ice.forUser('bob', now).iceServers[0]!;
    expect(a.credential).to.not.equal(b.credential);
  });

  it('has no TURN entry without TURN_URLS, and passes STUN urls through', () => {
    const ice = new IceService({
      stunUrls: ['stun:a.example:3478', 'stun:b.example:19302'],
      turnUrls: [],
      turnSecret: TURN_SECRET,
      turnTtlSeconds: 14400,
    });
    const { iceServers, expiresAt } = ice.forUser('u', now);
    expect(iceServers).to.deep.equal([{ urls: ['stun:a.example:3478', 'stun:b.example:19302'] }]);
    expect(Number.isNaN(Date.parse(expiresAt))).to.equal(false);
  });

  it('gives an empty list when nothing is configured', () => {
    const ice = new IceService({ stunUrls: [], turnUrls: [], turnSecret: null, turnTtlSeconds: 14400 });
    expect(ice.forUser('u', now).iceServers).to.deep.equal([]);
  });
});
