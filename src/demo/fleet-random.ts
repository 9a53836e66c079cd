/**
 * Deterministic randomness for the fleet data: a seeded PRNG per device (mulberry32 seeded
 * through hash2) and the few distributions the generator draws from.
 */

export type Rng = () => number;

/** mulberry32: small, fast, good enough for synthetic data. Returns [0, 1). */
export function mulberry32(seed: number): Rng {
  let a = seed | 0;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Mix two 32-bit integers into one (murmur3-style finaliser). */
export function hash2(a: number, b: number): number {
  let h = Math.imul(a ^ 0x9e3779b9, 0x85ebca6b) ^ Math.imul(b + 0x632be5ab, 0xc2b2ae35);
  h = Math.imul(h ^ (h >>> 16), 0x7feb352d);
  h = Math.imul(h ^ (h >>> 15), 0x846ca68b);
  return (h ^ (h >>> 16)) >>> 0;
}

export const between = (r: Rng, [lo, hi]: [number, number]) => lo + (hi - lo) * r();
/** Roughly normal, mean 0, sd 1 (sum of three uniforms). */
export const noise = (r: Rng) => (r() + r() + r() - 1.5) * 2;
export const clamp = (x: number, lo: number, hi: number) => (x < lo ? lo : x > hi ? hi : x);
const gauss = (x: number, mu: number, s: number) => Math.exp(-((x - mu) * (x - mu)) / (2 * s * s));

/** Share of peak activity by local hour: closed at night, lunch and after-work peaks. */
export function dailyLoad(hour: number): number {
  return 0.04 + 0.25 * gauss(hour, 10, 1.5) + 0.55 * gauss(hour, 12.75, 1.7) + 0.7 * gauss(hour, 17.75, 2.1);
}

/** Poisson-ish count with mean lambda (Knuth for small lambda, normal approximation above). */
export function poisson(r: Rng, lambda: number): number {
  if (lambda <= 0) return 0;
  if (lambda > 30) return Math.max(0, Math.round(lambda + Math.sqrt(lambda) * noise(r)));
  const limit = Math.exp(-lambda);
  let k = 0;
  let p = r();
  while (p > limit) {
    k++;
    p *= r();
  }
  return k;
}
