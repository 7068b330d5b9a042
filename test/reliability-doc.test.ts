import { readFileSync, writeFileSync } from 'node:fs'
import { expect, test } from 'vitest'
import { faultTable } from './fault-matrix.js'
import { hostileWireTable } from './hostile-wire/answers.js'
import { modelTable } from './model/model.js'
import { propertyRuns } from './property-runs.js'

// docs/reliability.md shows tables generated from the lists the tests run, between markers; these
// tests keep them equal. UPDATE_RELIABILITY_DOC=1 rewrites them (then run biome, which pads columns).

const path = new URL('../docs/reliability.md', import.meta.url)

const runsTable = (): string => {
  const rows = Object.entries(propertyRuns).map(([property, runs]) => `| ${property} | ${runs} |`)
  const total = Object.values(propertyRuns).reduce((sum, runs) => sum + runs, 0)
  return ['| property | cases per run |', '| --- | --- |', ...rows, `| **total** | **${total}** |`].join('\n')
}

// Compared cell by cell: the formatter pads the columns.
const cells = (markdown: string) =>
  markdown.split('\n').map((line) =>
    line
      .split('|')
      .map((cell) => cell.trim().replace(/^-+$/, '-'))
      .join('|'),
  )

/**
 * Each generated table: its marker name in docs/reliability.md and the function that writes it from the
 * list a suite runs.
 */
const tables: [string, () => string][] = [
  ['fault-matrix', faultTable],
  ['hostile-wire', hostileWireTable],
  ['property-runs', runsTable],
  ['concurrency-model', modelTable],
]

test.each(tables)('docs/reliability.md: the %s table matches the tests', (name, table) => {
  const doc = readFileSync(path, 'utf8')
  const start = `<!-- ${name}:start -->\n`
  const end = `\n<!-- ${name}:end -->`
  const from = doc.indexOf(start)
  const to = doc.indexOf(end)
  expect(from, `docs/reliability.md has the ${name} markers`).toBeGreaterThan(-1)
  expect(to).toBeGreaterThan(from)
  if (process.env.UPDATE_RELIABILITY_DOC === '1') {
    writeFileSync(path, doc.slice(0, from + start.length) + table() + doc.slice(to))
    return
  }
  expect(cells(doc.slice(from + start.length, to))).toEqual(cells(table()))
})
