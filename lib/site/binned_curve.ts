/**
 * The readable summary line of an accuracy-by-length chart. Accuracy is measured at every length from τ+2 to 3L
 * on a few hundred sequences each, so the per-length curve is jagged with sampling noise (±3 points at 256
 * sequences) and a small difference between models is lost in it. Pooling neighbouring lengths in bins of equal
 * width on the log₂ axis (BINS_PER_OCTAVE per doubling) averages the noise away: per seed, a bin's accuracy is
 * the fraction of all its sequences answered correctly; the line is the mean over seeds and the band their
 * min–max, so the band shows how much seeds differ, not sampling noise.
 *
 * No bin straddles the training length: bins are counted from L (L·2^(k/B) to L·2^((k+1)/B)), and the lengths
 * L, 2L and 3L, measured on more sequences and quoted by the findings, are bins of their own, so the summary line
 * passes exactly through the numbers the text gives. Short lengths (a few tokens) fall one per bin.
 *
 * Chart-only: findings read the per-length curve (series.ts), never these bins.
 */
import { type Series, upToThreeL } from "./series.ts";

/** Bins per doubling of the length: about 12% wide, ~8 lengths at L = 64 and ~15 at 2L. */
export const BINS_PER_OCTAVE = 6;

/** One bin: the lengths it pools, where it is drawn, and its accuracy over seeds. */
export interface BinnedPoint {
  /** Shortest and longest length pooled. */
  readonly from: number;
  readonly to: number;
  /** Where the point is drawn: the geometric mean of its lengths (the middle on a log axis). */
  readonly length: number;
  /** Mean, min and max over the evaluated seeds of each seed's pooled accuracy in the bin. */
  readonly mean: number;
  readonly min: number;
  readonly max: number;
  /** Evaluated seeds, and sequences per seed summed over the bin's lengths (of the first seed). */
  readonly seeds: number;
  readonly samples: number;
}

/** The bin of `length` for training length L: an exact multiple kL (k = 1, 2, 3) is its own bin. */
function binKey(length: number, L: number, binsPerOctave: number): string {
  if (length % L === 0 && length / L <= 3) return `exact ${length}`;
  return `bin ${Math.floor(Math.log2(length / L) * binsPerOctave)}`;
}

/** The series' accuracy by length pooled into log₂ bins (sorted by length); empty when no seed has a curve. */
export function binnedCurve(s: Series, binsPerOctave: number = BINS_PER_OCTAVE): BinnedPoint[] {
  const bins = new Map<string, { lengths: Set<number>; perSeed: Map<number, { correct: number; samples: number }> }>();
  for (const r of s.evaluated) {
    for (const p of upToThreeL(r)) {
      const key = binKey(p.length, s.L, binsPerOctave);
      const bin = bins.get(key) ?? { lengths: new Set<number>(), perSeed: new Map() };
      bin.lengths.add(p.length);
      const seed = bin.perSeed.get(r.config.seed) ?? { correct: 0, samples: 0 };
      seed.correct += Math.round(p.accuracy * p.samples);
      seed.samples += p.samples;
      bin.perSeed.set(r.config.seed, seed);
      bins.set(key, bin);
    }
  }
  const points = [...bins.values()].map((bin): BinnedPoint => {
    const lengths = [...bin.lengths].sort((a, b) => a - b);
    const seeds = [...bin.perSeed.values()];
    const acc = seeds.map((x) => x.correct / x.samples);
    return {
      from: lengths[0],
      to: lengths[lengths.length - 1],
      length: Math.exp(lengths.reduce((a, l) => a + Math.log(l), 0) / lengths.length),
      mean: acc.reduce((a, b) => a + b, 0) / acc.length,
      min: Math.min(...acc),
      max: Math.max(...acc),
      seeds: seeds.length,
      samples: seeds[0].samples,
    };
  });
  return points.sort((a, b) => a.length - b.length);
}
