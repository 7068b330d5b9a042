import middy from '@middy/core'
import { startEmulator } from '../../src/emulator/index.js'
import { ExtensionSecretsError, extensionSecrets, parameter } from '../../src/index.js'
import { baseScenario, table } from './modelled.js'
import { middlewareOptions } from './settings.mjs'

// The other side of coldStartRetry: what a name that does not exist costs with each setting, measured on
// the real middleware against the emulator.

/** 5. The other way: a name that does not exist, with each setting (real HTTP, one process). */
export const misconfiguration = async (quick = false) => {
  const cases = [
    { label: 'one value, 20 ms upstream', latencyMs: 20, others: 0 },
    { label: 'with 20 other values, 40 ms upstream', latencyMs: 40, others: 20 },
    { label: 'one value, 1,200 ms upstream (slower than the 1 s rule)', latencyMs: 1_200, others: 0 },
  ].slice(0, quick ? 1 : undefined)
  const rows: string[][] = []
  for (const { label, latencyMs, others } of cases)
    for (const settings of ['default', 'recommended'] as const) {
      const names = Array.from({ length: others }, (_, index) => `/storm/present-${index}`)
      const emulator = await startEmulator({
        token: 'storm-misconfiguration',
        values: { parameters: Object.fromEntries(names.map((name) => [name, 'present'])) },
        upstream: { parameterLatencyMs: latencyMs },
      })
      try {
        const fetchData = Object.fromEntries(names.map((name, index) => [`v${index}`, parameter(name)]))
        const handler = middy()
          .use(
            extensionSecrets({
              fetchData: { ...fetchData, missing: parameter('/storm/does-not-exist') },
              port: emulator.port,
              token: 'storm-misconfiguration',
              ...middlewareOptions(settings),
            }),
          )
          .handler(async () => 'started')
        const started = performance.now()
        const end = Date.now() + baseScenario.timeoutMs
        let code = 'none'
        try {
          await handler({}, { getRemainingTimeInMillis: () => end - Date.now() } as never)
        } catch (error) {
          code = error instanceof ExtensionSecretsError ? (error.errors?.[0]?.code ?? error.code) : 'other'
        }
        const asked = emulator.requests.filter((request) => request.query.name === '/storm/does-not-exist')
        rows.push([
          label,
          settings,
          code,
          `${Math.round(performance.now() - started)} ms`,
          String(asked.length),
        ])
      } finally {
        await emulator.close()
      }
    }
  return table(
    ['a missing name…', 'settings', 'error', 'time to the error', 'requests for the missing name'],
    rows,
  )
}
