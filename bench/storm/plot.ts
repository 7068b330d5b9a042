// A small SVG line plot: a share (0–1) against fleet sizes on a log scale. Written by hand so the bench
// needs no plotting dependency; the page it goes in is regenerated with it.

export interface Line {
  label: string
  points: number[]
  /** A pattern for `stroke-dasharray`, or none for a solid line. */
  dash?: string
  /** Line width; wider lines are drawn first, so one hidden under another still shows at its edges. */
  width?: number
}

const colours = ['#c0392b', '#c0392b', '#82e0aa', '#2471a3', '#7d3c98']
const escaped = (text: string) => text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;')

export const plot = (sizes: number[], lines: Line[], title: string): string => {
  const width = 860
  const height = 420
  const left = 70
  const right = 300
  const top = 50
  const bottom = 60
  const plotWidth = width - left - right
  const plotHeight = height - top - bottom
  const low = Math.log10(sizes[0]!)
  const high = Math.log10(sizes.at(-1)!)
  const x = (size: number) => left + ((Math.log10(size) - low) / Math.max(1e-9, high - low)) * plotWidth
  const y = (share: number) => top + (1 - share) * plotHeight
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="12">`,
    `<title>${escaped(title)}</title>`,
    `<rect width="${width}" height="${height}" fill="#ffffff"/>`,
    `<text x="${width / 2}" y="24" text-anchor="middle" font-size="13">${escaped(title)}</text>`,
  ]
  for (const share of [0, 0.25, 0.5, 0.75, 1]) {
    parts.push(
      `<line x1="${left}" x2="${left + plotWidth}" y1="${y(share)}" y2="${y(share)}" stroke="#dddddd"/>`,
      `<text x="${left - 8}" y="${y(share) + 4}" text-anchor="end">${share * 100} %</text>`,
    )
  }
  for (const size of sizes) {
    parts.push(
      `<line x1="${x(size)}" x2="${x(size)}" y1="${top}" y2="${top + plotHeight}" stroke="#eeeeee"/>`,
      `<text x="${x(size)}" y="${top + plotHeight + 18}" text-anchor="middle">${size.toLocaleString('en-US')}</text>`,
    )
  }
  parts.push(
    `<text x="${left + plotWidth / 2}" y="${height - 18}" text-anchor="middle">execution environments (log scale)</text>`,
    `<text transform="translate(18 ${top + plotHeight / 2}) rotate(-90)" text-anchor="middle">failed first invocations</text>`,
  )
  // Wider lines first, so that a narrow one on top of a wide one shows both.
  const drawn = lines
    .map((line, index) => ({ line, index }))
    .sort((a, b) => (b.line.width ?? 2) - (a.line.width ?? 2))
  for (const { line, index } of drawn) {
    const colour = colours[index % colours.length]!
    const dash = line.dash ? ` stroke-dasharray="${line.dash}"` : ''
    const stroke = line.width ?? 2
    const path = line.points.map(
      (share, at) => `${at === 0 ? 'M' : 'L'}${x(sizes[at]!).toFixed(1)} ${y(share).toFixed(1)}`,
    )
    parts.push(`<path d="${path.join(' ')}" fill="none" stroke="${colour}" stroke-width="${stroke}"${dash}/>`)
    for (const [at, share] of line.points.entries())
      parts.push(
        `<circle cx="${x(sizes[at]!).toFixed(1)}" cy="${y(share).toFixed(1)}" r="3" fill="${colour}"/>`,
      )
    const legendY = top + 10 + index * 22
    parts.push(
      `<line x1="${left + plotWidth + 20}" x2="${left + plotWidth + 50}" y1="${legendY}" y2="${legendY}" stroke="${colour}" stroke-width="${stroke}"${dash}/>`,
      `<text x="${left + plotWidth + 56}" y="${legendY + 4}">${escaped(line.label)}</text>`,
    )
  }
  parts.push('</svg>')
  return `${parts.join('\n')}\n`
}
