import { expect } from 'chai';
import { createOriginPolicy } from '../../src/transport/origin-policy.js';

describe('origin policy', () => {
  it('allows requests without Origin (native clients, servers) in every mode', () => {
    expect(createOriginPolicy(null, false)(undefined, 'chat.example')).to.equal(true);
    expect(createOriginPolicy(null, true)(undefined, 'chat.example')).to.equal(true);
    expect(createOriginPolicy(['https://app.example'], true)(undefined, undefined)).to.equal(true);
  });

  describe('with CORS_ORIGINS', () => {
    const policy = createOriginPolicy(['https://app.example', 'https://admin.example:8443/'], false);

    it('allows exactly the listed origins (trailing slash and case ignored)', () => {
      expect(policy('https://app.example', 'api.example')).to.equal(true);
      expect(policy('https://APP.example', 'api.example')).to.equal(true);
      expect(policy('https://admin.example:8443', 'api.example')).to.equal(true);
    });

    it('refuses anything else, localhost and look-alikes included', () => {
      expect(policy('http://app.example', 'api.example')).to.equal(false);
      expect(policy('https://app.example:444', 'api.example')).to.equal(false);
      expect(policy('https://app.example.evil.com', 'api.example')).to.equal(false);
      expect(policy('https://evilapp.example', 'api.example')).to.equal(false);
      expect(policy('https://admin.example', 'api.example')).to.equal(false);
      expect(policy('http://localhost:5173', 'api.example')).to.equal(false);
      expect(policy('null', 'api.example')).to.equal(false);
    });

    it('also allows the same origin as the Host (native clients send the address they dial)', () => {
      expect(policy('http://api.example:3001', 'api.example:3001')).to.equal(true);
      expect(policy('https://API.example', 'api.example')).to.equal(true);
      expect(createOriginPolicy(['https://app.example'], true)('http://127.0.0.1:8080', '127.0.0.1:8080')).to.equal(true);
      // Same host, another port or scheme-less value: not the same origin.
      expect(policy('http://api.example:3002', 'api.example:3001')).to.equal(false);
      expect(policy('api.example:3001', 'api.example:3001')).to.equal(false);
      expect(policy('http://api.example', undefined)).to.equal(false);
    });

    it("with '*' allows any origin", () => {
      const any = createOriginPolicy(['*'], true);
      expect(any('https://anything.example', 'api.example')).to.equal(true);
      expect(any('http://localhost:3000', 'api.example')).to.equal(true);
    });
  });

  describe('without CORS_ORIGINS', () => {
    it('allows the same host and localhost on any port outside production', () => {
      const policy = createOriginPolicy(null, false);
      expect(policy('https://chat.example', 'chat.example')).to.equal(true);
      expect(policy('http://chat.example:3001', 'chat.example:3001')).to.equal(true);
      expect(policy('http://localhost:5173', 'chat.example')).to.equal(true);
      expect(policy('http://127.0.0.1:8080', 'chat.example')).to.equal(true);
      expect(policy('http://[::1]:8080', 'chat.example')).to.equal(true);
    });

    it('refuses foreign origins outside production', () => {
      const policy = createOriginPolicy(null, false);
      expect(policy('https://evil.example', 'chat.example')).to.equal(false);
      expect(policy('http://localhost.evil.example', 'chat.example')).to.equal(false);
      expect(policy('https://chat.example.evil.example', 'chat.example')).to.equal(false);
      expect(policy('http://chat.example:8080', 'chat.example:3001')).to.equal(false);
      expect(policy('not a url', 'chat.example')).to.equal(false);
      expect(policy('null', 'chat.example')).to.equal(false);
    });

    it('in production allows the same host but refuses a foreign localhost', () => {
      const policy = createOriginPolicy(null, true);
      expect(policy('https://chat.example', 'chat.example')).to.equal(true);
      expect(policy('http://localhost:5173', 'chat.example')).to.equal(false);
      expect(policy('http://127.0.0.1:8080', 'chat.example')).to.equal(false);
      expect(policy('https://evil.example', 'chat.example')).to.equal(false);
    });
  });
});
