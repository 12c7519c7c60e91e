import type { ServerFleet } from '../lib/server-fleet.js';
import { guests, rooms, sleep } from '../lib/setup.js';
import { round } from '../lib/stats.js';
import { CallLoad } from './call-load.js';
import { ChatLoad } from './chat-load.js';
import { FaultSchedule, soakFaults } from './fault-schedule.js';
import { leftoversAfter } from './leftover-state.js';
import { Sampler } from './sampler.js';
import type { SoakArgs } from './soak-args.js';
import { SoakCluster } from './soak-cluster.js';
import { dropTransport } from './soak-socket.js';
import { storedHistory } from './stored-history.js';

/** How the load is shaped: constant across runs so that figures compare. */
export const SHAPE = {
  membersPerRoom: 4,
  sendersPerRoom: 2,
  sendGapMs: 200,
  callSize: 2,
  /** Calls in this many of the rooms. */
  callRooms: 4,
  signalEveryMs: 500,
  churnEveryMs: 1000,
  callChurnEveryMs: 5000,
  sampleEveryMs: 3000,
  /** Share of all sockets whose transport a "client transports dropped" fault cuts. */
  dropShare: 0.5,
  /** After the last fault: traffic goes on this long before it stops. */
  settleMs: 10_000,
  drainTimeoutMs: 60_000,
  leftoverTimeoutMs: 20_000,
};

/** Runs the soak and returns everything measured; the judging is verdict.ts's. */
export async function runSoak(args: SoakArgs, fleet: ServerFleet, log: (msg: string) => void) {
  const cluster = new SoakCluster(fleet);
  await cluster.start();
  const [a] = cluster.nodes;
  const users = await guests(a!, 40);
  const roomIds = await rooms(a!, users[0]!, args.rooms);
  const startedAt = Date.now();
  const sampler = new Sampler(() => cluster.nodes, cluster.redis.url, startedAt);
  await sampler.start(SHAPE.sampleEveryMs);
  const baseline = await sampler.readQueue();
  if (!baseline) throw new Error('the queue did not answer before traffic');
  log(`two nodes on ${cluster.urls.join(', ')}, Redis ${cluster.redis.url} (AOF); ${args.rooms} rooms; queue baseline ${JSON.stringify(baseline)}`);

  const chat = new ChatLoad(cluster.urls, users, roomIds, { rooms: args.rooms, members: SHAPE.membersPerRoom, senders: SHAPE.sendersPerRoom, sendGapMs: SHAPE.sendGapMs });
  const calls = new CallLoad(cluster.urls, users, roomIds.slice(0, SHAPE.callRooms), SHAPE.callSize);
  const sockets = () => [...chat.members.map((m) => m.socket), ...calls.peers.map((p) => p.socket)];
  const dropClients = () => sockets().filter((s) => Math.random() < SHAPE.dropShare && dropTransport(s)).length;
  const acked = () => chat.figures().acked;
  const faults = new FaultSchedule(soakFaults(cluster, dropClients), acked, startedAt, log);
  let turn = 0;
  const timers = [
    setInterval(() => calls.tick(), SHAPE.signalEveryMs),
    setInterval(() => chat.churnStep(turn++), SHAPE.churnEveryMs),
    setInterval(() => calls.churnStep(), SHAPE.callChurnEveryMs),
    setInterval(() => log(`acked ${acked()}, queue ${JSON.stringify(sampler.queue.at(-1) ?? null)}, heap ${lastHeaps(sampler)}`), 30_000),
  ];
  const first = Math.min(args.faultPeriodSec, 20) * 1000;
  faults.start(first, args.faultPeriodSec * 1000);
  const elapsed = () => (Date.now() - startedAt) / 1000;
  try {
    await sleep(args.durationSec * 1000);
    log('stopping faults');
    await faults.stop();
    await sleep(SHAPE.settleMs);
  } finally {
    for (const t of timers) clearInterval(t);
  }
  log('stopping traffic (each sender finishes its message in hand)');
  await chat.stop();
  const trafficEndSec = round(elapsed(), 1);

  // The queue drains: everything acked reaches the store, and the consumers acknowledge it.
  const drainStart = Date.now();
  let end = await sampler.readQueue();
  while ((!end || end.length !== baseline.length || end.pending !== baseline.pending) && Date.now() - drainStart < SHAPE.drainTimeoutMs) {
    await sleep(250);
    end = await sampler.readQueue();
  }
  const drainMs = Date.now() - drainStart;
  log(`queue after ${drainMs} ms: ${JSON.stringify(end)}`);

  const stored = new Map<string, Awaited<ReturnType<typeof storedHistory>>>();
  for (const roomId of roomIds) stored.set(roomId, await storedHistory(a!.url, users[0]!.token, roomId));

  const traffic = { ...chat.figures(), ...calls.figures() };
  chat.close();
  calls.close();
  const left = await leftoversAfter(cluster.redis.url, cluster.nodes, SHAPE.leftoverTimeoutMs);
  await sampler.stop();
  await cluster.stop();
  return { baseline, end, drainMs, trafficEndSec, stored, senders: chat.senders, traffic, faults: faults.records, memory: sampler.memory, leftovers: left, restarts: cluster.restarts };
}

function lastHeaps(sampler: Sampler): string {
  const last = new Map<string, number>();
  for (const s of sampler.memory) last.set(s.node, s.heapMB);
  return [...last].map(([n, h]) => `${n} ${h} MB`).join(', ');
}

export type SoakRun = Awaited<ReturnType<typeof runSoak>>;
