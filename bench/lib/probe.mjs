/* global process, performance, setTimeout */
/**
 * Preloaded into every server under test (`node --import ./bench/lib/probe.mjs …`): answers
 * the benchmark's questions over the IPC channel, from inside the server's own process, so
 * the server code is measured unchanged. Plain JavaScript: it must load without a TypeScript
 * loader, because the servers run compiled (see bench/lib/build.ts).
 *   reset → starts a window (CPU time, event-loop delay, GC pauses)
 *   stats → CPU µs (the process, and its main thread alone), wall ms, event-loop delay percentiles, GC pauses and memory since `reset`
 *   gc    → two full GCs, then memoryUsage() (needs --expose-gc)
 *   heap  → writes a heap snapshot to `path` (investigations)
 */
import { readFileSync } from 'node:fs';
import { constants, monitorEventLoopDelay, PerformanceObserver } from 'node:perf_hooks';

/**
 * CPU µs of the main thread alone (Linux: /proc/self/task/<pid>/stat, utime + stime in
 * USER_HZ ticks of 10 ms); null elsewhere. The rest of the process's CPU is its other threads:
 * our SQLite writer and checkpointer, V8's GC helpers, libuv's pool.
 */
function mainThreadCpuUs() {
  try {
    const stat = readFileSync(`/proc/self/task/${process.pid}/stat`, 'utf8');
    // Fields after the command name (in parentheses, which may hold spaces): utime is the 12th, stime the 13th.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) * 10_000;
  } catch {
    return null;
  }
}

if (process.send) {
  // The histogram records whole timer intervals (resolution + delay): the delay is the excess.
  const RESOLUTION_MS = 10;
  const eld = monitorEventLoopDelay({ resolution: RESOLUTION_MS });
  eld.enable();
  const freshGc = () => ({ minor: 0, minorMs: 0, major: 0, majorMs: 0, maxMs: 0 });
  let gcStats = freshGc();
  new PerformanceObserver((list) => {
    for (const e of list.getEntries()) {
      if (e.detail?.kind === constants.NODE_PERFORMANCE_GC_MAJOR) {
        gcStats.major++;
        gcStats.majorMs += e.duration;
      } else {
        gcStats.minor++;
        gcStats.minorMs += e.duration;
      }
      if (e.duration > gcStats.maxMs) gcStats.maxMs = e.duration;
    }
  }).observe({ entryTypes: ['gc'] });
  let cpu = process.cpuUsage();
  let mainCpu = mainThreadCpuUs();
  let wall = performance.now();
  const gc = globalThis.gc;
  const settle = () => new Promise((r) => setTimeout(r, 50));
  const ms = (ns) => Math.max(0, Math.round(ns / 1000 - RESOLUTION_MS * 1000) / 1000);

  process.on('message', (req) => {
    if (!req || typeof req.probe !== 'number') return;
    const reply = (body) => process.send?.({ probe: req.probe, ...body });
    // hrtimeUs: CLOCK_MONOTONIC, the clock of V8's CPU profile timestamps.
    const hrtimeUs = Number(process.hrtime.bigint() / 1000n);
    if (req.cmd === 'reset') {
      cpu = process.cpuUsage();
      mainCpu = mainThreadCpuUs();
      wall = performance.now();
      eld.reset();
      gcStats = freshGc();
      reply({ hrtimeUs });
    } else if (req.cmd === 'stats') {
      const used = process.cpuUsage(cpu);
      const mainNow = mainThreadCpuUs();
      reply({
        mainThreadCpuUs: mainNow === null || mainCpu === null ? null : mainNow - mainCpu,
        hrtimeUs,
        cpuUs: used.user + used.system,
        wallMs: performance.now() - wall,
        eld: { p50: ms(eld.percentile(50)), p99: ms(eld.percentile(99)), max: ms(eld.max), mean: ms(eld.mean) },
        mem: process.memoryUsage(),
        gc: { ...gcStats, minorMs: Math.round(gcStats.minorMs), majorMs: Math.round(gcStats.majorMs), maxMs: Math.round(gcStats.maxMs) },
      });
    } else if (req.cmd === 'heap' && req.path) {
      void import('node:v8').then((v8) => reply({ file: v8.writeHeapSnapshot(req.path) }));
    } else if (req.cmd === 'gc') {
      void (async () => {
        if (gc) {
          gc();
          await settle();
          gc();
          await settle();
        }
        reply({ mem: process.memoryUsage(), gc: Boolean(gc) });
      })();
    }
  });
  // The channel must not keep a server alive that is shutting down.
  process.channel?.unref();
}
