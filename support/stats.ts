/**
 * Small, dependency-free statistics for the tests and the benchmarks: quantiles and medians, the
 * spread of a benchmark's rounds, number formatting, and the Mann-Whitney U test (Wilcoxon
 * rank-sum) with the normal approximation, tie correction and continuity correction, which needs
 * no assumption about the shape of latency distributions (skewed, long-tailed, nothing like normal).
 */

export function quantile (values: readonly number[], q: number): number {
  if (values.length === 0) throw new RangeError('quantile of no values')
  const sorted = [...values].sort((a, b) => a - b)
  const position = (sorted.length - 1) * q
  const low = Math.floor(position)
  const high = Math.ceil(position)
  return sorted[low]! + (sorted[high]! - sorted[low]!) * (position - low)
}

export const median = (values: readonly number[]): number => quantile(values, 0.5)

export function round (n: number, digits = 0): number {
  const f = 10 ** digits
  return Math.round(n * f) / f
}

/** Median and range over a benchmark's rounds; values that are not finite (a failed round) are left out. */
export interface Spread { median: number, min: number, max: number, n: number }

export function spread (values: readonly number[]): Spread {
  const finite = values.filter((v) => Number.isFinite(v))
  if (finite.length === 0) return { median: Number.NaN, min: Number.NaN, max: Number.NaN, n: 0 }
  return { median: median(finite), min: Math.min(...finite), max: Math.max(...finite), n: finite.length }
}

/** `12 345 [11 000–13 000]`, the range only when there is more than one value. */
export function formatSpread (s: Spread, digits = 0, unit = ''): string {
  const f = (v: number): string => formatNumber(v, digits) + unit
  if (Number.isNaN(s.median)) return 'n/a'
  return s.n > 1 ? `${f(s.median)} [${f(s.min)}–${f(s.max)}]` : f(s.median)
}

export function formatNumber (value: number, digits = 0): string {
  if (!Number.isFinite(value)) return 'n/a'
  return value.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits })
}

/**
 * erfc(x) with a fractional error below 1.2e-7 everywhere (Numerical Recipes' erfcc, a Chebyshev
 * fit), plenty for p-values down to 1e-7.
 */
export function erfc (x: number): number {
  const z = Math.abs(x)
  const t = 1 / (1 + 0.5 * z)
  const r = t * Math.exp(-z * z - 1.26551223 + t * (1.00002368 + t * (0.37409196 + t * (0.09678418 +
    t * (-0.18628806 + t * (0.27886807 + t * (-1.13520398 + t * (1.48851587 +
    t * (-0.82215223 + t * 0.17087277)))))))))
  return x >= 0 ? r : 2 - r
}

/** P(Z > z) for a standard normal Z. */
const normalUpperTail = (z: number): number => 0.5 * erfc(z / Math.SQRT2)

export interface MannWhitneyResult {
  /** U of the first sample: how many (a, b) pairs have a > b, ties counting one half. */
  u: number
  /** U / (n1 * n2): the probability that a value of the first sample exceeds one of the second (0.5: no shift). */
  probabilityOfSuperiority: number
  /** The normal approximation's z (tie- and continuity-corrected); positive when the first sample is larger. */
  z: number
  /** Two-sided p-value of "both samples come from the same distribution". */
  p: number
  /** Hodges-Lehmann estimate of the shift: the median of all differences a - b. */
  shift: number
}

export function mannWhitney (a: readonly number[], b: readonly number[]): MannWhitneyResult {
  const n1 = a.length
  const n2 = b.length
  if (n1 < 2 || n2 < 2) throw new RangeError('mannWhitney needs at least two values per sample')
  const all = [...a.map((value) => ({ value, first: true })), ...b.map((value) => ({ value, first: false }))]
    .sort((x, y) => x.value - y.value)
  const n = n1 + n2
  // Mid-ranks for ties, and the tie term sum(t^3 - t) for the variance.
  let rankSumA = 0
  let ties = 0
  for (let i = 0; i < n;) {
    let j = i
    while (j + 1 < n && all[j + 1]!.value === all[i]!.value) j++
    const rank = (i + j) / 2 + 1
    for (let k = i; k <= j; k++) if (all[k]!.first) rankSumA += rank
    const t = j - i + 1
    ties += t * t * t - t
    i = j + 1
  }
  const u = rankSumA - n1 * (n1 + 1) / 2
  const mean = n1 * n2 / 2
  const variance = n1 * n2 / 12 * ((n + 1) - ties / (n * (n - 1)))
  const diff = u - mean
  const z = variance === 0 ? 0 : (diff - 0.5 * Math.sign(diff)) / Math.sqrt(variance)
  const p = Math.min(1, 2 * normalUpperTail(Math.abs(z)))
  const differences: number[] = []
  for (const x of a) for (const y of b) differences.push(x - y)
  return { u, probabilityOfSuperiority: u / (n1 * n2), z, p, shift: median(differences) }
}

/** One line for a test report: medians, quartiles and the test. */
export function describeComparison (labelA: string, a: readonly number[], labelB: string, b: readonly number[], unit = 'ms', digits = 3): string {
  const f = (x: number): string => x.toFixed(digits)
  const mw = mannWhitney(a, b)
  return `${labelA}: median ${f(median(a))} ${unit} (IQR ${f(quantile(a, 0.25))}-${f(quantile(a, 0.75))}, n=${a.length}); ` +
    `${labelB}: median ${f(median(b))} ${unit} (IQR ${f(quantile(b, 0.25))}-${f(quantile(b, 0.75))}, n=${b.length}); ` +
    `Mann-Whitney U=${mw.u} z=${mw.z.toFixed(2)} p=${mw.p.toPrecision(3)}, P(${labelA} > ${labelB})=${mw.probabilityOfSuperiority.toFixed(3)}, ` +
    `Hodges-Lehmann shift ${f(mw.shift)} ${unit}`
}
