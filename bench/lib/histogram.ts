/**
 * A log-linear latency histogram in whole microseconds (HDR-style): exact below 128 µs, then
 * 64 sub-buckets per power of two (≤ 1.6 % error), up to ~35 minutes. Constant memory, O(1)
 * record, mergeable: samples from several receivers are merged, never their percentiles.
 */
const LINEAR = 128;
const SUB = 64;
const MAX_SHIFT = 25;
const SIZE = LINEAR + MAX_SHIFT * SUB;

function indexOf(us: number): number {
  const v = us < 0 ? 0 : Math.round(us);
  if (v < LINEAR) return v;
  const magnitude = 31 - Math.clz32(Math.min(v, 0x7fffffff));
  const shift = magnitude - 6;
  const sub = v >>> shift; // 64..127
  return Math.min(SIZE - 1, LINEAR + (shift - 1) * SUB + (sub - SUB));
}

function valueAt(index: number): number {
  if (index < LINEAR) return index;
  const shift = Math.floor((index - LINEAR) / SUB) + 1;
  const sub = ((index - LINEAR) % SUB) + SUB;
  // Midpoint of the bucket.
  return (sub << shift) + ((1 << shift) - 1) / 2;
}

export class Histogram {
  private readonly counts = new Float64Array(SIZE);
  count = 0;
  sum = 0;
  min = Infinity;
  max = 0;

  /** Records one sample in microseconds. */
  record(us: number): void {
    this.counts[indexOf(us)]!++;
    this.count++;
    this.sum += us;
    if (us < this.min) this.min = us;
    if (us > this.max) this.max = us;
  }

  merge(other: Histogram): this {
    for (let i = 0; i < SIZE; i++) this.counts[i]! += other.counts[i]!;
    this.count += other.count;
    this.sum += other.sum;
    this.min = Math.min(this.min, other.min);
    this.max = Math.max(this.max, other.max);
    return this;
  }

  reset(): void {
    this.counts.fill(0);
    this.count = 0;
    this.sum = 0;
    this.min = Infinity;
    this.max = 0;
  }

  /** The value at percentile p (0–100), in microseconds. */
  percentile(p: number): number {
    if (this.count === 0) return NaN;
    const rank = Math.max(1, Math.ceil((p / 100) * this.count));
    let seen = 0;
    for (let i = 0; i < SIZE; i++) {
      seen += this.counts[i]!;
      if (seen >= rank) return Math.min(valueAt(i), this.max);
    }
    return this.max;
  }

  /** p50/p90/p99/p99.9/max in milliseconds, rounded to µs. */
  summaryMs(): { n: number; p50: number; p90: number; p99: number; p999: number; max: number; mean: number } {
    const ms = (us: number) => Math.round(us) / 1000;
    return {
      n: this.count,
      p50: ms(this.percentile(50)),
      p90: ms(this.percentile(90)),
      p99: ms(this.percentile(99)),
      p999: ms(this.percentile(99.9)),
      max: ms(this.max),
      mean: this.count ? ms(this.sum / this.count) : NaN,
    };
  }
}
