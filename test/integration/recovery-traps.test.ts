import { expect } from 'chai';
import { annAndFollower, expectTwoRecoveriesDeliverOnce } from '../helpers/room-follower.js';
import { startServerWithFastSweep } from '../helpers/session-sweep.js';
import { eventually } from '../helpers/socket-client.js';
import { useServer, type TestServer } from '../helpers/test-server.js';

/**
 * Connection-state recovery traps other projects hit, on one node (the in-memory adapter).
 * Whatever Socket.IO recovers or not, a client written as README asks (rejoin with lastSeq
 * when `recovered` is false) loses no message and gets none twice.
 */

const ENV = { RATE_LIMIT_MESSAGES: '100000', RATE_LIMIT_EVENTS: '100000' };
const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i);

/** The in-memory adapter's state, read (never changed) as evidence of which trap was met. */
interface InMemoryAdapterView {
  sessions: Map<string, unknown>;
  packets: { id: string }[];
}
/** What socket.io-client sends on reconnect: its session id and the offset of the last packet. */
interface ClientRecoveryState {
  _pid?: string;
  _lastOffset?: string;
}

describe('/chat: connection-state recovery traps (single node)', () => {
  const opened: { close(): void }[] = [];
  const annAndBob = async (url: string) => {
    const pair = await annAndFollower(url);
    opened.push(...pair.sockets);
    return pair;
  };
  afterEach(() => opened.splice(0).forEach((s) => s.close()));

  describe('an idle client whose offset the in-memory adapter swept (socket.io#5282)', () => {
    /** Short enough that a client idles past it in test time, long enough to reconnect within it. */
    const WINDOW_MS = 2500;
    let server: TestServer;
    before(async () => {
      server = await startServerWithFastSweep(200, { ...ENV, RECOVERY_WINDOW_MS: String(WINDOW_MS) });
    });
    after(async () => {
      await server?.stop();
    });

    it('is not recovered although its session is kept, rejoins with lastSeq and loses nothing, gets nothing twice', async () => {
      const { b, send } = await annAndBob(server.url);
      await send();
      await eventually(() => b.deliveries.length === 1, 5000, 'the first message at bob');

      // Bob receives nothing for longer than the window: the sweep drops the packet his offset names.
      const adapter = server.app.io.of('/chat').adapter as unknown as InMemoryAdapterView;
      const state = b.socket as unknown as ClientRecoveryState;
      const offset = state._lastOffset;
      expect(offset, 'bob holds a recovery offset').to.be.a('string');
      await eventually(() => !adapter.packets.some((p) => p.id === offset), WINDOW_MS + 5000, "the sweep to drop bob's offset");

      const back = await b.away(async () => {
        // The session itself is fresh (kept a whole window from the disconnect): only the offset is gone.
        await eventually(() => adapter.sessions.has(state._pid!), 2000, "bob's session to be kept");
        await send(5);
      });

      expect(back.recovered, 'a swept offset cannot be recovered').to.equal(false);
      expect(back.backfilled, 'the lastSeq backfill brings the messages sent while away').to.equal(5);
      expect(b.heldSeqs()).to.deep.equal(range(1, 6));
      expect(b.duplicates()).to.deep.equal([]);
      // Rejoined: live delivery goes on, exactly once.
      await send();
      await eventually(() => b.heldSeqs().length === 7, 5000, 'a live message after the rejoin');
      expect(b.deliveries.map((m) => m.seq)).to.deep.equal([1, 7]);
      expect(b.backfill.map((m) => m.seq)).to.deep.equal(range(2, 6));
    });
  });

  describe('two recoveries in a row with no traffic between (socket.io#5419, socket.io-redis-streams-adapter#39)', () => {
    const { server } = useServer({ ...ENV, RECOVERY_WINDOW_MS: '60000' });

    it('the second recovery replays nothing again: each message is delivered exactly once', async () => {
      await expectTwoRecoveriesDeliverOnce(await annAndBob(server.url));
    });
  });
});
