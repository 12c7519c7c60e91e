import { expect } from 'chai';
import type { ReadMarker, ReadMarkerStore } from '../../src/ports/store.js';
import { ReadMarkers, unreadCount } from '../../src/services/read-markers.js';
import { silentLogger } from '../helpers/silent-logger.js';
import { eventually } from '../helpers/socket-client.js';

/** A store in memory that records each batch and can be made to fail. */
class FakeMarkerStore implements ReadMarkerStore {
  readonly markers = new Map<string, number>();
  readonly batches: ReadMarker[][] = [];
  down = false;

  async setReadMarker(roomId: string, userId: string, seq: number): Promise<boolean> {
    if (this.down) throw new Error('store down');
    const key = `${roomId}/${userId}`;
    if (seq <= (this.markers.get(key) ?? 0)) return false;
    this.markers.set(key, seq);
    return true;
  }

  async setReadMarkers(list: ReadMarker[]): Promise<void> {
    if (this.down) throw new Error('store down');
    this.batches.push(list.map((m) => ({ ...m })));
    for (const m of list) await this.setReadMarker(m.roomId, m.userId, m.seq);
  }

  async getReadMarker(roomId: string, userId: string): Promise<number> {
    if (this.down) throw new Error('store down');
    return this.markers.get(`${roomId}/${userId}`) ?? 0;
  }

  async readMarkers(userId: string, roomIds: string[]): Promise<Map<string, number>> {
    const found = roomIds.flatMap((r) => (this.markers.has(`${r}/${userId}`) ? [[r, this.markers.get(`${r}/${userId}`)!] as const] : []));
    return new Map(found);
  }
}

describe('ReadMarkers: own sends move the marker off the send path', () => {
  it('gathers own sends per room and user, the highest seq winning, into one batched write', async () => {
    const store = new FakeMarkerStore();
    const markers = new ReadMarkers(store, silentLogger, { flushDelayMs: 10 });
    markers.sent('r1', 'u1', 3);
    markers.sent('r1', 'u1', 5);
    markers.sent('r1', 'u1', 4);
    markers.sent('r2', 'u1', 1);
    expect(store.batches).to.deep.equal([]);
    // Held, not yet written: reads of this node count them already.
    expect(await markers.markerOf('r1', 'u1')).to.equal(5);
    expect(Object.fromEntries(await markers.markersOf('u1', ['r1', 'r2', 'r3']))).to.deep.equal({ r1: 5, r2: 1, r3: 0 });
    await eventually(() => store.batches.length === 1, 2000, 'the batch');
    expect(store.batches[0]).to.deep.equal([
      { roomId: 'r1', userId: 'u1', seq: 5 },
      { roomId: 'r2', userId: 'u1', seq: 1 },
    ]);
    expect(await markers.markerOf('r1', 'u1')).to.equal(5);
    await markers.stop();
  });

  it('keeps what a failed write held and writes it once the store is back; stop writes the rest', async () => {
    const store = new FakeMarkerStore();
    const markers = new ReadMarkers(store, silentLogger, { flushDelayMs: 5, retryDelayMs: 20 });
    store.down = true;
    markers.sent('r1', 'u1', 2);
    await new Promise((r) => setTimeout(r, 40));
    markers.sent('r1', 'u1', 3);
    store.down = false;
    await eventually(() => store.markers.get('r1/u1') === 3, 2000, 'the retried marker');
    markers.sent('r1', 'u2', 7);
    await markers.stop();
    expect(store.markers.get('r1/u2')).to.equal(7);
    // After stop, sends are not followed (the store is about to close).
    markers.sent('r1', 'u3', 1);
    await new Promise((r) => setTimeout(r, 20));
    expect(store.markers.has('r1/u3')).to.equal(false);
  });

  it('holds at most maxPending markers while the store is down; moves of held ones still count', async () => {
    const store = new FakeMarkerStore();
    store.down = true;
    const markers = new ReadMarkers(store, silentLogger, { flushDelayMs: 1000, maxPending: 2 });
    markers.sent('r1', 'u1', 1);
    markers.sent('r2', 'u1', 1);
    markers.sent('r3', 'u1', 1);
    markers.sent('r1', 'u1', 4);
    store.down = false;
    await markers.stop();
    expect(Object.fromEntries(store.markers)).to.deep.equal({ 'r1/u1': 4, 'r2/u1': 1 });
  });

  it('refuses an explicit read past the room’s last seq (VALIDATION_FAILED) without touching the store', async () => {
    const store = new FakeMarkerStore();
    const markers = new ReadMarkers(store, silentLogger);
    const refused = await markers.read('r1', 'u1', 4, 3).then(
      () => null,
      (err: { code?: string }) => err.code,
    );
    expect(refused).to.equal('VALIDATION_FAILED');
    expect(store.markers.size).to.equal(0);
    expect(await markers.read('r1', 'u1', 3, 3)).to.equal(true);
    expect(await markers.read('r1', 'u1', 2, 3)).to.equal(false);
    expect([unreadCount(10, 3), unreadCount(3, 3), unreadCount(2, 5)]).to.deep.equal([7, 0, 0]);
    await markers.stop();
  });
});
