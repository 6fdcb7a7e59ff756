/** Medians and ranges over rounds. */
export interface Spread { median: number, min: number, max: number, n: number }

export function spread (values: readonly number[]): Spread {
  const sorted = values.filter((v) => Number.isFinite(v)).sort((a, b) => a - b)
  const n = sorted.length
  if (n === 0) return { median: Number.NaN, min: Number.NaN, max: Number.NaN, n }
  const median = n % 2 === 1 ? sorted[(n - 1) / 2]! : (sorted[n / 2 - 1]! + sorted[n / 2]!) / 2
  return { median, min: sorted[0]!, max: sorted[n - 1]!, n }
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
