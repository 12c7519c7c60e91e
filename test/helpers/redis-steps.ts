import { expect } from 'chai';
import type { RedisClient } from '../../src/infra/redis/redis-client.js';
import { keySlot } from './redis-slot.js';
import type { SuiteRedis } from './redis-server.js';
import { eventually } from './socket-client.js';

/** What Redis runs as one: a command, a script with the commands it ran, or a MULTI…EXEC. */
export interface AtomicStep {
  client: string;
  commands: Buffer[][];
}

/** A MONITOR line: `<time> [<db> <client>] "arg" "arg"…`, arguments escaped as sdscatrepr does. */
export function parseMonitorLine(line: string): { client: string; args: Buffer[] } | null {
  const head = /^\d+\.\d+ \[\d+ ([^\]]+)\] /.exec(line);
  if (!head) return null;
  const args: Buffer[] = [];
  for (const [, quoted] of line.slice(head[0].length).matchAll(/"((?:[^"\\]|\\.)*)"/g)) {
    const bytes: number[] = [];
    for (let i = 0; i < quoted!.length; i++) {
      const c = quoted![i]!;
      if (c !== '\\') bytes.push(...Buffer.from(c, 'latin1'));
      else if (quoted![i + 1] === 'x') {
        bytes.push(parseInt(quoted!.slice(i + 2, i + 4), 16));
        i += 3;
      } else {
        const e = quoted![++i]!;
        bytes.push(({ n: 10, r: 13, t: 9, a: 7, b: 8 } as Record<string, number>)[e] ?? e.charCodeAt(0));
      }
    }
    args.push(Buffer.from(bytes));
  }
  return { client: head[1]!, args };
}

/**
 * Groups MONITOR lines into atomic steps. A script's own commands (client "lua") follow its
 * EVAL at once, nothing can come between; a MULTI's commands are collected per client up
 * to its EXEC, whatever other clients send meanwhile.
 */
export function groupSteps(lines: string[]): AtomicStep[] {
  const steps: AtomicStep[] = [];
  const open = new Map<string, AtomicStep>();
  for (const line of lines) {
    const parsed = parseMonitorLine(line);
    if (!parsed) continue;
    const { client, args } = parsed;
    const name = args[0]?.toString().toUpperCase();
    if (client === 'lua') steps.at(-1)?.commands.push(args);
    else if (name === 'MULTI') open.set(client, { client, commands: [] });
    else if (name === 'EXEC' || name === 'DISCARD') {
      const step = open.get(client);
      open.delete(client);
      if (step && name === 'EXEC') steps.push(step);
    } else if (open.has(client)) open.get(client)!.commands.push(args);
    else steps.push({ client, commands: [args] });
  }
  return steps;
}

/** The keys a command names, as the server itself finds them (COMMAND GETKEYS). */
async function keysOf(redis: RedisClient, args: Buffer[]): Promise<string[]> {
  try {
    return (await redis.sendCommand(['COMMAND', 'GETKEYS', ...args])) as string[];
  } catch {
    return []; // a command without keys (PING, FLUSHALL, SCRIPT LOAD…)
  }
}

/** Steps whose keys fall in more than one slot, each as its commands in words. */
export async function crossSlotSteps(redis: RedisClient, steps: AtomicStep[]): Promise<string[]> {
  const crossing: string[] = [];
  for (const step of steps) {
    const keys = (await Promise.all(step.commands.map((args) => keysOf(redis, args)))).flat();
    if (new Set(keys.map((k) => keySlot(k))).size > 1) {
      crossing.push(step.commands.map((args) => args.map((a) => a.toString().slice(0, 40)).join(' ')).join(' ; '));
    }
  }
  return crossing;
}

/** Every command a Redis server runs from `start` to `stop`, as MONITOR shows them. */
export class CommandRecording {
  private readonly lines: string[] = [];

  private constructor(private readonly monitor: RedisClient) {}

  static async start(redis: SuiteRedis): Promise<CommandRecording> {
    const recording = new CommandRecording(await redis.connect('monitor'));
    await recording.monitor.monitor((line) => recording.lines.push(line));
    return recording;
  }

  /** Stops once a marker sent after everything recorded has come back: nothing is cut off. */
  async stop(redis: SuiteRedis): Promise<AtomicStep[]> {
    const marker = `end-of-recording-${Date.now()}`;
    await redis.client.echo(marker);
    await eventually(() => this.lines.some((l) => l.includes(marker)), 5000, 'the end of the MONITOR recording');
    this.monitor.destroy();
    return groupSteps(this.lines);
  }
}

/**
 * Records every command the suite's Redis runs, from its first test to the test this adds,
 * and checks in that test that each atomic step (command, script with what it ran, MULTI)
 * touched keys of one slot, as a Redis Cluster requires. Call it last in the suite, after
 * `useRedis`: mocha runs a suite's own tests before its nested suites, and the check is a
 * nested suite of its own, so it runs after every test registered before it.
 */
export function assertOneSlotPerStep(redis: SuiteRedis, minScripts: number): void {
  let recording: CommandRecording | null = null;
  before(async () => {
    recording = await CommandRecording.start(redis);
  });
  describe('on a Redis Cluster', () => {
    it('every atomic step (command, script with what it ran, MULTI) touched keys of one hash slot', async () => {
      const steps = await recording!.stop(redis);
      const scripts = steps.filter((s) => /^EVAL/i.test(s.commands[0]![0]!.toString()));
      expect(scripts.length, 'scripts recorded (is MONITOR working?)').to.be.at.least(minScripts);
      const crossing = await crossSlotSteps(redis.client, steps);
      expect(crossing.slice(0, 3), `${crossing.length} of ${steps.length} steps cross slots, the first ones`).to.deep.equal([]);
    });
  });
}
