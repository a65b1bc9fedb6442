// A seedable PRNG shared by the fault proxy and the benchmark scripts (plain Node, so JavaScript; types in
// seeded-random.d.mts).

/** mulberry32: a small, fast, seedable 32-bit PRNG; returns numbers in [0, 1). */
export function mulberry32(seed) {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
