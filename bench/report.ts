export const median = (samples: number[]): number => {
  if (samples.length === 0) return Number.NaN
  const sorted = [...samples].sort((a, b) => a - b)
  const middle = sorted.length >> 1
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2
}

/** Fixed decimals, or three significant digits for small values. */
export const fmt = (value: number, digits?: number): string => {
  if (!Number.isFinite(value)) return '–'
  if (digits !== undefined) return value.toFixed(digits)
  const abs = Math.abs(value)
  return value.toFixed(abs >= 100 ? 0 : abs >= 10 ? 1 : 2)
}

export const ratio = (value: number, base: number, digits = 2): string => `${fmt(value / base, digits)}×`

export const table = (header: string[], rows: string[][]): string => {
  const align = header.map((_, i) => (i === 0 ? '---' : '--:'))
  return [header, align, ...rows].map((cells) => `| ${cells.join(' | ')} |`).join('\n')
}
