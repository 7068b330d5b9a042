import { describe, expect, it } from 'vitest'
import { runBench } from '../bench/harness.js'

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
})
