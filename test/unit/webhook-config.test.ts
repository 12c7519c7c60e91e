import { expect } from 'chai';
import { randomBytes } from 'node:crypto';
import { ConfigError, loadConfig } from '../../src/config/load-config.js';
import { WEBHOOK_EVENT_TYPES } from '../../src/ports/webhooks.js';

const SECRET = `whsec_${randomBytes(32).toString('base64')}`;

function problems(env: Record<string, string>): string {
  try {
    loadConfig(env);
  } catch (err) {
    expect(err).to.be.instanceOf(ConfigError);
    return (err as ConfigError).message;
  }
  throw new Error(`expected loadConfig(${JSON.stringify(Object.keys(env))}) to throw`);
}

describe('loadConfig: webhooks', () => {
  it('is off without WEBHOOK_URLS (or with an empty one), whatever else is set', () => {
    expect(loadConfig({}).webhooks).to.equal(null);
    expect(loadConfig({ WEBHOOK_URLS: '', WEBHOOK_SECRET: SECRET }).webhooks).to.equal(null);
    expect(loadConfig({ WEBHOOK_URLS: ' , ', WEBHOOK_EVENTS: 'room.created' }).webhooks).to.equal(null);
  });

  it('with URLs and a secret: every event type, 8 attempts, URLs trimmed and without repeats', () => {
    const config = loadConfig({ WEBHOOK_URLS: 'https://hooks.example.com/a, http://10.0.0.5:8080/b,https://hooks.example.com/a', WEBHOOK_SECRET: SECRET });
    expect(config.webhooks).to.deep.equal({
      urls: ['https://hooks.example.com/a', 'http://10.0.0.5:8080/b'],
      secret: SECRET,
      events: [...WEBHOOK_EVENT_TYPES],
      maxAttempts: 8,
    });
  });

  it('WEBHOOK_EVENTS filters the types; WEBHOOK_MAX_ATTEMPTS sets the attempts', () => {
    const config = loadConfig({ WEBHOOK_URLS: 'https://h.example/x', WEBHOOK_SECRET: SECRET, WEBHOOK_EVENTS: 'message.created, room.deleted', WEBHOOK_MAX_ATTEMPTS: '3' });
    expect(config.webhooks!.events).to.deep.equal(['message.created', 'room.deleted']);
    expect(config.webhooks!.maxAttempts).to.equal(3);
  });

  it('an unknown WEBHOOK_EVENTS type stops start-up, naming the variable and the type', () => {
    const message = problems({ WEBHOOK_URLS: 'https://h.example/x', WEBHOOK_SECRET: SECRET, WEBHOOK_EVENTS: 'message.created,message.deleted' });
    expect(message).to.contain('WEBHOOK_EVENTS').and.contain('"message.deleted"').and.contain('participant.joined');
  });

  it('WEBHOOK_SECRET is required with WEBHOOK_URLS', () => {
    expect(problems({ WEBHOOK_URLS: 'https://h.example/x' })).to.contain('WEBHOOK_SECRET: required when WEBHOOK_URLS is set');
  });

  it('a WEBHOOK_SECRET that is not whsec_<base64 of 24–64 bytes> stops start-up, naming the variable and never showing the value', () => {
    for (const bad of [
      'supersecretvalue-0123456789-abcdef',
      randomBytes(32).toString('base64'),
      `whsec_${randomBytes(8).toString('base64')}`,
      `whsec_${randomBytes(80).toString('base64')}`,
      'whsec_not*base64*at*all*not*base64*at*all',
      `whsec_${randomBytes(32).toString('base64').slice(0, -1)}`,
    ]) {
      const message = problems({ WEBHOOK_URLS: 'https://h.example/x', WEBHOOK_SECRET: bad });
      expect(message, bad).to.contain('WEBHOOK_SECRET=(hidden)').and.contain('whsec_');
      expect(message).to.not.contain(bad);
    }
  });

  it('a WEBHOOK_URLS entry that is not an http(s) URL stops start-up; the value is hidden (a URL may carry a token)', () => {
    for (const bad of ['ftp://h.example/x', 'h.example/x', 'https://ok.example/a,javascript:alert(1)']) {
      const message = problems({ WEBHOOK_URLS: bad, WEBHOOK_SECRET: SECRET });
      expect(message, bad).to.contain('WEBHOOK_URLS=(hidden)').and.contain('http:// or https://');
    }
  });

  it('WEBHOOK_MAX_ATTEMPTS must be a whole number from 1 to 100', () => {
    for (const bad of ['0', '101', 'many', '2.5']) expect(problems({ WEBHOOK_MAX_ATTEMPTS: bad }), bad).to.contain('WEBHOOK_MAX_ATTEMPTS');
  });
});
