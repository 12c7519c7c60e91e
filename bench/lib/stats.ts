export function median(xs: number[]): number {
  return quantile(xs, 0.5);
}

export function quantile(xs: number[], q: number): number {
  const v = xs.filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
  if (v.length === 0) return NaN;
  const pos = (v.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return v[lo]! + (v[hi]! - v[lo]!) * (pos - lo);
}

/** Median and interquartile range of the repetitions. */
export function summarize(xs: number[], digits = 3): { median: number; iqr: [number, number]; runs: number[] } {
  return {
    median: round(median(xs), digits),
    iqr: [round(quantile(xs, 0.25), digits), round(quantile(xs, 0.75), digits)],
    runs: xs.map((x) => round(x, digits)),
  };
}

/** Least-squares line through (x, y): slope and intercept, plus r². */
export function linearFit(points: { x: number; y: number }[]): { slope: number; intercept: number; r2: number } {
  const n = points.length;
  const mx = points.reduce((s, p) => s + p.x, 0) / n;
  const my = points.reduce((s, p) => s + p.y, 0) / n;
  let sxy = 0;
  let sxx = 0;
  let syy = 0;
  for (const p of points) {
    sxy += (p.x - mx) * (p.y - my);
    sxx += (p.x - mx) ** 2;
    syy += (p.y - my) ** 2;
  }
  const slope = sxx === 0 ? NaN : sxy / sxx;
  return { slope, intercept: my - slope * mx, r2: sxx === 0 || syy === 0 ? NaN : (sxy * sxy) / (sxx * syy) };
}

export function round(x: number, digits = 3): number {
  if (!Number.isFinite(x)) return x;
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}

export function ratio(ours: number, bare: number, digits = 3): number {
  return round(ours / bare, digits);
}

/** Generator CPU over a window, as a share of one core. */
export function cpuMeter(): () => { cpuUs: number; share: number } {
  const start = process.cpuUsage();
  const t0 = performance.now();
  return () => {
    const used = process.cpuUsage(start);
    const cpuUs = used.user + used.system;
    return { cpuUs, share: round(cpuUs / 1000 / (performance.now() - t0), 3) };
  };
}

/** Exponential inter-arrival gaps (a Poisson process) at `ratePerSec`, in µs. */
export function poissonGapUs(ratePerSec: number): number {
  return (-Math.log(1 - Math.random()) / ratePerSec) * 1e6;
}

/** The median of one figure over the repetitions, rounded. */
export function medianOf<T>(xs: T[], pick: (x: T) => number, digits = 3): number {
  return round(median(xs.map(pick)), digits);
}

/** The total of one count over the repetitions. */
export function sumOf<T>(xs: T[], pick: (x: T) => number): number {
  return xs.reduce((sum, x) => sum + pick(x), 0);
}
