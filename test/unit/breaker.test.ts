import { expect } from 'chai';
import { AppError, isUnavailable, unavailable, unconfirmed } from '../../src/domain/app-error.js';
import { Breaker, redisDriverOutage } from '../../src/infra/breaker.js';
import { recordingLogger } from '../helpers/recording-logger.js';

/** The one guard in front of every dependency: what a caller gets, and what the operator reads. */
describe('Breaker', () => {
  const failWith = (err: unknown) => () => Promise.reject(err);

  it('turns a driver failure into UNAVAILABLE and logs its cause once, where it is translated', async () => {
    const logger = recordingLogger();
    const breaker = new Breaker({ name: 'redis', timeoutMs: 1000, isDriverOutage: redisDriverOutage }, logger);
    const err = await breaker.run(failWith(new Error('connect ECONNREFUSED 127.0.0.1:6390'))).catch((e: unknown) => e);
    expect(isUnavailable(err)).to.equal(true);
    expect((err as AppError).message).to.equal('redis is unavailable; try again shortly');
    expect((err as AppError).cause).to.be.instanceOf(Error);
    const logged = logger.lines.filter((l) => l.message === 'dependency call failed');
    expect(logged).to.have.length(1);
    expect(logged[0]!.meta).to.deep.include({ dependency: 'redis', err: 'connect ECONNREFUSED 127.0.0.1:6390' });
    breaker.shutdown();
  });

  it("logs the driver cause a store attached to its UNAVAILABLE, and passes the store's error on", async () => {
    const logger = recordingLogger();
    const breaker = new Breaker({ name: 'store', timeoutMs: 1000 }, logger);
    const raised = unavailable('the message store is busy; try again', Object.assign(new Error('database is locked'), { code: 'SQLITE_BUSY' }));
    expect(await breaker.run(failWith(raised)).catch((e: unknown) => e)).to.equal(raised);
    expect(logger.lines.find((l) => l.message === 'dependency call failed')?.meta).to.deep.include({ dependency: 'store', err: 'database is locked' });
    breaker.shutdown();
  });

  it('passes errors that are not outages through untouched and stays closed', async () => {
    const breaker = new Breaker({ name: 'store', timeoutMs: 1000 }, recordingLogger());
    const notFound = new AppError('ROOM_NOT_FOUND', 'no such room');
    for (let i = 0; i < 10; i++) expect(await breaker.run(failWith(notFound)).catch((e: unknown) => e)).to.equal(notFound);
    const plain = new Error('a bug');
    expect(await breaker.run(failWith(plain)).catch((e: unknown) => e), 'a store has no driver outages but its own').to.equal(plain);
    expect(breaker.state).to.equal('closed');
    breaker.shutdown();
  });

  it('does not open for an UNAVAILABLE that is one request\'s alone (replicas that did not confirm), and passes it on', async () => {
    const breaker = new Breaker({ name: 'redis', timeoutMs: 1000, isDriverOutage: redisDriverOutage }, recordingLogger());
    const refused = unconfirmed('only 0 of the 1 Redis replicas required (REDIS_MIN_REPLICAS_ACK) confirmed the message in time; try again');
    for (let i = 0; i < 10; i++) expect(await breaker.run(failWith(refused)).catch((e: unknown) => e)).to.equal(refused);
    expect(breaker.state, 'Redis answers: presence and signaling must go on').to.equal('closed');
    expect(await breaker.run(async () => 'ok')).to.equal('ok');
    breaker.shutdown();
  });

  it('gives a hanging call a deadline, then opens and fails fast without calling the dependency', async () => {
    const logger = recordingLogger();
    const breaker = new Breaker({ name: 'redis', timeoutMs: 50, resetTimeoutMs: 60_000, isDriverOutage: redisDriverOutage }, logger);
    const hang = () => new Promise<never>(() => {});
    for (let i = 0; i < 3; i++) {
      const err = await breaker.run(hang).catch((e: unknown) => e);
      expect((err as AppError).message).to.equal('redis did not answer in time; try again');
    }
    expect(breaker.state).to.equal('open');
    let called = false;
    const started = Date.now();
    const err = await breaker
      .run(async () => {
        called = true;
      })
      .catch((e: unknown) => e);
    expect(isUnavailable(err)).to.equal(true);
    expect(called).to.equal(false);
    expect(Date.now() - started).to.be.below(50);
    // Three timeouts in a burst: one line, not three.
    expect(logger.lines.filter((l) => l.message === 'dependency call failed')).to.have.length(1);
    breaker.shutdown();
  });
});
