import { expect } from 'chai';
import { ConfigError, loadConfig } from '../../src/config/load-config.js';

const SECRET = 'a-jwt-secret-that-is-long-enough-0123456789';

/** Runs loadConfig and returns the ConfigError it must throw. */
function configError(env: Record<string, string | undefined>): ConfigError {
  try {
    loadConfig(env);
  } catch (err) {
    expect(err).to.be.instanceOf(ConfigError);
    return err as ConfigError;
  }
  throw new Error(`expected loadConfig(${JSON.stringify(Object.keys(env))}) to throw`);
}

describe('loadConfig', () => {
  it('gives the documented defaults with an empty environment', () => {
    const config = loadConfig({});
    expect(config.env).to.equal('development');
    expect(config.production).to.equal(false);
    expect(config.port).to.equal(3001);
    expect(config.socketPath).to.equal('/ws');
    expect(config.maxMessageLength).to.equal(4000);
    expect(config.maxPayloadBytes).to.equal(65536);
    expect(config.rateLimits.messagesPer10s).to.equal(30);
    expect(config.rateLimits.eventsPerSecond).to.equal(50);
    expect(config.rateLimits.httpPerMinute).to.equal(300);
    expect(config.rateLimits.connectionsPerUser).to.equal(20);
    expect(config.rateLimits.handshakesPer10s).to.equal(60);
    expect(config.recoveryWindowMs).to.equal(120000);
    expect(config.turnTtlSeconds).to.equal(14400);
    expect(config.maxCallParticipants).to.equal(8);
    // Embedded mode: nothing external is needed.
    expect(config.redis).to.equal(null);
    expect(config.mongodbUri).to.equal(null);
    expect(config.jwtSecret).to.equal(null);
    expect(config.allowGuests).to.equal(true);
    expect(config.corsOrigins).to.equal(null);
    expect(config.turnUrls).to.deep.equal([]);
  });

  it("accepts the seed's .env lines as written", () => {
    const config = loadConfig({
      NODE_ENV: 'development',
      PORT: '3001',
      MONGODB_URI: 'mongodb://localhost:27017/chat-app',
      REDIS_HOST: '127.0.0.1',
      REDIS_PORT: '6379',
    });
    expect(config.env).to.equal('development');
    expect(config.port).to.equal(3001);
    expect(config.mongodbUri).to.equal('mongodb://localhost:27017/chat-app');
    expect(config.redis).to.deep.equal({ kind: 'single', url: 'redis://127.0.0.1:6379' });
  });

  it('accepts MongoDB connection strings for a standalone server, a replica set and SRV', () => {
    for (const uri of [
      'mongodb://localhost:27017/chat-app',
      'mongodb://chat:p%40ss@db1.internal:27017,db2.internal:27018,db3.internal/chat?replicaSet=rs0&authSource=admin',
      'mongodb+srv://chat:pw@cluster0.example.net/chat?retryWrites=true&w=majority',
      'mongodb://[::1]:27017/chat',
    ]) {
      expect(loadConfig({ MONGODB_URI: uri }).mongodbUri).to.equal(uri);
    }
    for (const bad of ['mongodb://', 'mongodb:///chat', 'mongodb://host:port/chat', 'redis://localhost:6379']) {
      expect(configError({ MONGODB_URI: bad }).message, bad).to.contain('MONGODB_URI');
    }
  });

  it('builds the Redis URL from host, port and password (password URL-encoded)', () => {
    const config = loadConfig({ REDIS_HOST: 'cache.internal', REDIS_PORT: '6380', REDIS_PASSWORD: 'p@ss/word' });
    expect(config.redis).to.deep.equal({ kind: 'single', url: 'redis://:p%40ss%2Fword@cache.internal:6380' });
  });

  it('lets REDIS_URL win over REDIS_HOST/REDIS_PORT', () => {
    const config = loadConfig({ REDIS_URL: 'redis://primary.example:7000', REDIS_HOST: '127.0.0.1', REDIS_PORT: '6379' });
    expect(config.redis).to.deep.equal({ kind: 'single', url: 'redis://primary.example:7000' });
  });

  it('reads a Redis Cluster from its seed nodes, as host:port or URLs, with REDIS_PASSWORD for the nodes it discovers', () => {
    const config = loadConfig({ REDIS_CLUSTER_URLS: '10.0.0.1:7000, redis://:pw@10.0.0.2:7001,[::1]:7002', REDIS_PASSWORD: 'secret' });
    expect(config.redis).to.deep.equal({ kind: 'cluster', urls: ['redis://10.0.0.1:7000', 'redis://:pw@10.0.0.2:7001', 'redis://[::1]:7002'], password: 'secret' });
  });

  it('reads Sentinels and the master name; each needs the other', () => {
    const config = loadConfig({ REDIS_SENTINELS: 's1.internal:26379,[::1]:26380', REDIS_SENTINEL_MASTER: 'chat-master' });
    expect(config.redis).to.deep.equal({
      kind: 'sentinel',
      sentinels: [
        { host: 's1.internal', port: 26379 },
        { host: '::1', port: 26380 },
      ],
      masterName: 'chat-master',
      password: null,
    });
    expect(configError({ REDIS_SENTINELS: 's1:26379' }).message).to.contain('REDIS_SENTINEL_MASTER: required with REDIS_SENTINELS');
    expect(configError({ REDIS_SENTINEL_MASTER: 'm' }).message).to.contain('REDIS_SENTINELS: required with REDIS_SENTINEL_MASTER');
  });

  it('refuses two ways to Redis at once, and seed lists that are not host:port', () => {
    expect(configError({ REDIS_URL: 'redis://a:6379', REDIS_CLUSTER_URLS: 'b:7000' }).message).to.contain('set only one of them');
    expect(configError({ REDIS_HOST: 'a', REDIS_SENTINELS: 's:26379', REDIS_SENTINEL_MASTER: 'm' }).message).to.contain('set only one of them');
    for (const bad of ['b', 'b:0', 'b:70000', 'b:7000,,c', 'http://b:7000', ',']) {
      const message = configError({ REDIS_CLUSTER_URLS: bad }).message;
      expect(message, bad).to.contain('REDIS_CLUSTER_URLS');
    }
    expect(configError({ REDIS_SENTINELS: 'redis://s:26379', REDIS_SENTINEL_MASTER: 'm' }).message).to.contain('REDIS_SENTINELS="redis://s:26379": expected host:port');
    expect(configError({ REDIS_SENTINELS: 's:26379', REDIS_SENTINEL_MASTER: 'bad name' }).message).to.contain('REDIS_SENTINEL_MASTER');
  });

  it('treats empty values as unset (a copied .env.example works)', () => {
    const config = loadConfig({ PORT: '', MONGODB_URI: '', REDIS_URL: '', REDIS_HOST: '', JWT_SECRET: '', ALLOW_GUESTS: '', MAX_MESSAGE_LENGTH: '' });
    expect(config.port).to.equal(3001);
    expect(config.mongodbUri).to.equal(null);
    expect(config.redis).to.equal(null);
    expect(config.jwtSecret).to.equal(null);
    expect(config.allowGuests).to.equal(true);
    expect(config.maxMessageLength).to.equal(4000);
  });

  it('parses explicit values', () => {
    const config = loadConfig({
      PORT: '8080',
      SOCKET_PATH: '/rt',
      MAX_MESSAGE_LENGTH: '10',
      RATE_LIMIT_HTTP: '5',
      ALLOW_GUESTS: 'false',
      CORS_ORIGINS: 'https://a.example, https://b.example',
      LOG_DIR: 'none',
    });
    expect(config.port).to.equal(8080);
    expect(config.socketPath).to.equal('/rt');
    expect(config.maxMessageLength).to.equal(10);
    expect(config.rateLimits.httpPerMinute).to.equal(5);
    expect(config.allowGuests).to.equal(false);
    expect(config.corsOrigins).to.deep.equal(['https://a.example', 'https://b.example']);
    expect(config.logDir).to.equal(null);
  });

  const badValues: Array<[string, string]> = [
    ['PORT', 'abc'],
    ['PORT', '70000'],
    ['PORT', '-1'],
    ['MAX_MESSAGE_LENGTH', '-1'],
    ['MAX_MESSAGE_LENGTH', '1e3'],
    ['ALLOW_GUESTS', 'maybe'],
    ['MONGODB_URI', 'http://x'],
    ['REDIS_URL', 'localhost:6379'],
    ['SOCKET_ADAPTER', 'kafka'],
    ['NODE_ENV', 'staging'],
  ];
  for (const [name, value] of badValues) {
    it(`refuses ${name}=${value} with a ConfigError naming ${name}`, () => {
      const err = configError({ [name]: value });
      expect(err.message).to.contain(name);
    });
  }

  it('names every bad variable at once', () => {
    const err = configError({ PORT: 'abc', ALLOW_GUESTS: 'maybe' });
    expect(err.message).to.contain('PORT');
    expect(err.message).to.contain('ALLOW_GUESTS');
  });

  it('requires JWT_SECRET in production', () => {
    const err = configError({ NODE_ENV: 'production' });
    expect(err.message).to.contain('JWT_SECRET');
  });

  it('disables guests by default in production, and ALLOW_GUESTS=true turns them on', () => {
    expect(loadConfig({ NODE_ENV: 'production', JWT_SECRET: SECRET }).allowGuests).to.equal(false);
    expect(loadConfig({ NODE_ENV: 'production', JWT_SECRET: SECRET, ALLOW_GUESTS: 'true' }).allowGuests).to.equal(true);
  });

  it('requires TURN_SECRET when TURN_URLS is set', () => {
    const err = configError({ TURN_URLS: 'turn:turn.example:3478' });
    expect(err.message).to.contain('TURN_SECRET');
  });

  it('never shows a secret value in the error message', () => {
    const jwt = configError({ JWT_SECRET: 'tiny-s3cret' });
    expect(jwt.message).to.contain('JWT_SECRET');
    expect(jwt.message).not.to.contain('tiny-s3cret');

    const turn = configError({ TURN_URLS: 'turn:t.example', TURN_SECRET: 'turn-s3cret' });
    expect(turn.message).to.contain('TURN_SECRET');
    expect(turn.message).not.to.contain('turn-s3cret');

    const admin = configError({ ADMIN_TOKEN: 'admin-s3cret' });
    expect(admin.message).to.contain('ADMIN_TOKEN');
    expect(admin.message).not.to.contain('admin-s3cret');
  });

  it('never shows credentials of a bad connection URL in the error message', () => {
    const mongo = configError({ MONGODB_URI: 'http://admin:hunter2-pw@db.example/chat' });
    expect(mongo.message).to.contain('MONGODB_URI');
    expect(mongo.message).not.to.contain('hunter2-pw');

    const redis = configError({ REDIS_URL: 'tcp://:redis-pw-123@cache.example:6379' });
    expect(redis.message).to.contain('REDIS_URL');
    expect(redis.message).not.to.contain('redis-pw-123');
  });
});
