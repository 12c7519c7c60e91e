import { expect } from 'chai';
import { checkHistory, expectClean, figures, type CheckedMessage, type ClientRecord, type Delivery, type SendRecord } from '../../support/history-checker.js';

/**
 * The fault suites trust the checker to say "clean" only when nothing was lost, duplicated,
 * skipped or reordered: each kind of damage here must be caught and named.
 */
describe('history checker', () => {
  const msg = (seq: number, clientMsgId: string): CheckedMessage => ({ seq, clientMsgId, id: `m${seq}-${clientMsgId}` });
  /** One sender that sent a-1..a-n one after another, each acked at seq = its number. */
  const sender = (n: number, ackedAt = (i: number) => i): SendRecord => ({
    attempted: new Set(Array.from({ length: n }, (_, i) => `a-${i + 1}`)),
    acked: new Map(Array.from({ length: n }, (_, i) => [`a-${i + 1}`, ackedAt(i + 1)])),
    ackedBeforeAttempt: new Map(Array.from({ length: n }, (_, i) => [`a-${i + 1}`, i])),
  });
  const history = (n: number) => Array.from({ length: n }, (_, i) => msg(i + 1, `a-${i + 1}`));
  const client = (name: string, received: [CheckedMessage, Delivery][]): ClientRecord => ({ name, received: received.map(([message, via]) => ({ message, via })) });
  const failure = (fn: () => void) => {
    try {
      fn();
    } catch (err) {
      return (err as Error).message;
    }
    throw new Error('expected the check to fail');
  };

  it('passes a clean run, with live arrival out of seq order and a catch-up overlapping live delivery', () => {
    const stored = history(4);
    const bob = client('bob', [
      [stored[1]!, 'live'],
      [stored[0]!, 'live'],
      [stored[0]!, 'join'],
      [stored[2]!, 'gap-fill'],
      [stored[3]!, 'final-walk'],
    ]);
    const report = checkHistory({ stored, senders: [sender(4)], clients: [bob] });
    expectClean(report);
    expect(report.clients[0]!.onlyByFinalWalk).to.deep.equal([4]);
    expect(figures(report)).to.match(/^4 acked, 4 stored; store: 0 lost/);
  });

  it('catches in the store: an acked message lost, one stored twice, a gap, one nobody sent, a seq other than acked', () => {
    const stored = [msg(1, 'a-1'), msg(2, 'a-2'), msg(3, 'a-2'), msg(5, 'x-1'), msg(6, 'a-4')];
    const report = checkHistory({ stored, senders: [sender(4)] });
    expect(report).to.deep.include({ lost: ['a-3'], duplicated: ['a-2'], unexpected: ['x-1'], gaps: [4], seqMismatch: ['a-4'] });
    expect(failure(() => expectClean(report))).to.contain('acked but not stored: 1 (a-3)').and.contain('seq gaps in the store: 1 (4)');
    expect(checkHistory({ stored, senders: [sender(4)], sentByTest: (id) => id === 'x-1' }).unexpected).to.deep.equal([]);
  });

  it('catches history served out of order, and a sender’s later message stored before an earlier one', () => {
    const served = [msg(1, 'a-1'), msg(3, 'a-3'), msg(2, 'a-2')];
    expect(checkHistory({ stored: served, senders: [sender(3)] }).storeOutOfOrder).to.deep.equal(['seq 2 served after seq 3']);
    // a-2 was sent after a-1 was acked, yet holds the lower seq.
    const swapped = [msg(1, 'a-2'), msg(2, 'a-1')];
    const report = checkHistory({ stored: swapped, senders: [sender(2, (i) => 3 - i)] });
    expect(report.storeOutOfOrder).to.deep.equal(['a-2 (seq 1) not after a-1 (seq 2)']);
  });

  it('catches in a client: a message sent once pushed live twice, a missing message, another message at a seq, one at two seqs', () => {
    const stored = history(3);
    const bob = client('bob', [
      [stored[0]!, 'live'],
      [stored[0]!, 'live'],
      [msg(2, 'a-1'), 'live'],
    ]);
    const report = checkHistory({ stored, senders: [sender(3)], clients: [bob] });
    expect(report.clients[0]).to.deep.include({ liveDuplicates: [1], liveBeyondSends: [1], lost: ['a-2', 'a-3'], duplicated: ['a-1'], gaps: [3], mismatched: [2] });
    expect(failure(() => expectClean(report))).to.contain('bob: pushed live more often than sent: 1 (1)');
  });

  it('reports a retried message pushed live twice (the retry on another node repeats the fan-out), and catches a third copy', () => {
    const stored = history(1);
    const retried = { ...sender(1), attempts: new Map([['a-1', 2]]) };
    const twice = checkHistory({ stored, senders: [retried], clients: [client('bob', [[stored[0]!, 'live'], [stored[0]!, 'live']])] });
    expect(twice.clients[0]).to.deep.include({ liveDuplicates: [1], liveBeyondSends: [] });
    expectClean(twice);
    const thrice = checkHistory({ stored, senders: [retried], clients: [client('bob', [[stored[0]!, 'live'], [stored[0]!, 'live'], [stored[0]!, 'live']])] });
    expect(thrice.clients[0]!.liveBeyondSends).to.deep.equal([1]);
  });
});
