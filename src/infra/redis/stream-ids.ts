/** Redis stream ids ("<ms>-<n>") in time order, as Redis orders them. */
export function compareStreamIds(a: string, b: string): number {
  const [am, an] = a.split('-').map(Number) as [number, number];
  const [bm, bn] = b.split('-').map(Number) as [number, number];
  return am - bm || an - bn;
}
