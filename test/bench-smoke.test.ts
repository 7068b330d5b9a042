import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { runBench } from '../bench/harness.js'
import { stormValues } from '../bench/storm/real.js'
import { runStormBench } from '../bench/storm/storm-bench.js'

// The benchmark's code, run once with tiny counts: every contender must get every value (the harness
// throws otherwise) and every table must be produced. Timings are not read: they mean nothing here.
// The bench picks its Middy majors itself, so the suite's Middy 7 run (MIDDY_MAJOR=7) would only repeat it.
describe.skipIf(process.env.MIDDY_MAJOR === '7')('npm run bench (smoke run)', () => {
  it('runs every contender and section and reports every target', async () => {
    const result = await runBench({ quick: true })
    for (const heading of [
      '## Targets',
      '## Cold start, Node',
      '## Bundle size',
      '## Bytes per feature',
      '## Size of the source',
      '## Warm invocations, cache off',
      '## Warm invocations, cache on',
      '## Readiness',
      '## Scale: number of values',
      '## Scale: concurrent invocations in one process',
      '## Upstream calls and cost per month (computed)',
    ]) {
      expect(result.markdown).toContain(heading)
    }
    for (const contender of [
      'middy-extension-secrets',
      'raw `node:http`',
      '`fetch` snippet',
      '`@middy/ssm` + `@middy/secrets-manager`',
      '`@aws-lambda-powertools/parameters`',
    ]) {
      expect(result.markdown).toContain(contender)
    }
    // Without Node 22 and 24 the Middy 7 cold starts are left out, and their targets with them.
    expect(result.targets.map((target) => target.target)).toHaveLength(17)
    expect(result.markdown).not.toContain('bench-session-token')
    expect(result.markdown).not.toContain('bench-dummy-secret-access-key')
  }, 240_000)

  it('npm run bench:storm: runs real processes and the model, and produces every block of the page', async () => {
    const { generated, svg } = await runStormBench({ quick: true })
    expect(Object.keys(generated).sort()).toEqual([
      'calibration',
      'fleet',
      'misconfiguration',
      'schedules',
      'summary',
      'timeout',
    ])
    const page = readFileSync(new URL('../docs/scaling.md', import.meta.url), 'utf8')
    for (const name of Object.keys(generated)) expect(page).toContain(`<!-- storm:${name} -->`)
    // The real storm's row: 4 environments, each with an outcome, as real and modelled.
    expect(generated.calibration).toMatch(/\| 4 × 2 parameters, 1 s, default \| \d/)
    expect(generated.misconfiguration).toContain('UPSTREAM_ERROR')
    expect(svg.startsWith('<svg')).toBe(true)
    expect(svg.match(/<path /g)).toHaveLength(4)
    const everything = `${Object.values(generated).join('\n')}${svg}`
    expect(everything).not.toContain('storm-session-token')
    expect(everything).not.toContain('storm-misconfiguration')
    for (const { text } of stormValues({ values: 2, service: 'parameter' }))
      expect(everything).not.toContain(text)
  }, 240_000)
})
