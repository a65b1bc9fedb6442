/** mulberry32: a small, fast, seedable 32-bit PRNG; returns numbers in [0, 1). */
export function mulberry32(seed: number): () => number;
