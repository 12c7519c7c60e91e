import type { AppOverrides } from '../../src/app.js';
import { describeWithRedis, startCluster, type TestCluster } from './cluster.js';
import { startServer, type TestServer } from './test-server.js';

/** The base URLs of "node A" and "node B": on one node, the same server twice. */
export type NodeUrls = () => [string, string];

/**
 * Declares one suite twice: on one node (embedded), and on two nodes over a real Redis, where
 * what is done on node A must reach clients of node B. `cluster()` is null on one node.
 */
export function onOneNodeAndTwo(
  title: string,
  env: Record<string, string>,
  suite: (urls: NodeUrls, cluster: () => TestCluster | null) => void,
  overrides?: AppOverrides,
): void {
  describe(`${title}: one node`, () => {
    let server: TestServer;
    before(async () => {
      server = await startServer(env, { overrides });
    });
    after(async () => {
      await server?.stop();
    });
    suite(() => [server.url, server.url], () => null);
  });

  describeWithRedis(`${title}: two nodes over Redis`, () => {
    let cluster: TestCluster;
    before(async () => {
      cluster = await startCluster(0, env);
      for (let i = 0; i < 2; i++) await cluster.addNode({}, overrides);
    });
    after(async () => {
      await cluster?.stop();
    });
    suite(() => [cluster.nodes[0]!.url, cluster.nodes[1]!.url], () => cluster);
  });
}
