import middy from '@middy/core'
import { expect, test } from 'vitest'
import {
  extensionSecrets,
  type LoggerLike,
  type MetricsLike,
  powertoolsEvents,
  secret,
} from '../src/index.js'
import { allText, lambdaContext, secretMarker, testToken, useEmulator } from './helpers.js'

const start = useEmulator()

/** Records calls the way a Powertools Logger and Metrics would receive them. */
const recorders = () => {
  const logged: { level: 'debug' | 'warn'; message: string; extra: object }[] = []
  const metrics: [string, string, number][] = []
  const logger: LoggerLike = {
    debug: (message, extra) => logged.push({ level: 'debug', message, extra }),
    warn: (message, extra) => logged.push({ level: 'warn', message, extra }),
  }
  const metricsLike: MetricsLike = { addMetric: (name, unit, value) => metrics.push([name, unit, value]) }
  return { logged, metrics, logger, metricsLike }
}

test('the Powertools adapter logs events at debug or warn and counts them as metrics', async () => {
  const server = await start({ faults: [{ action: 'respond', status: 503, match: { name: 'prod/db' } }] })
  const { logged, metrics, logger, metricsLike } = recorders()
  const handler = middy()
    .use(
      extensionSecrets({
        fetchData: { key: secret('prod/plain'), db: secret('prod/db') },
        port: server.port,
        token: testToken,
        retry: { maxRetryTime: 50 },
        onEvent: powertoolsEvents({ logger, metrics: metricsLike }),
      }),
    )
    .handler(async () => 'ok')
  await expect(handler({}, lambdaContext())).rejects.toMatchObject({ code: 'FETCH_FAILED' })
  expect(logged).toContainEqual({
    level: 'debug',
    message: 'middy-extension-secrets fetched',
    extra: { extensionSecrets: expect.objectContaining({ type: 'fetched', key: 'key', cache: 'off' }) },
  })
  expect(logged).toContainEqual({
    level: 'warn',
    message: 'middy-extension-secrets failed',
    extra: {
      extensionSecrets: expect.objectContaining({ type: 'failed', key: 'db', code: 'UPSTREAM_ERROR' }),
    },
  })
  expect(metrics).toContainEqual(['ExtensionSecretsFetch', 'Count', 1])
  expect(metrics).toContainEqual(['ExtensionSecretsFailure', 'Count', 1])
  expect(metrics).toContainEqual(['ExtensionSecretsFetchTime', 'Milliseconds', expect.any(Number)])
  expect(metrics).toContainEqual(['ExtensionSecretsReadinessWait', 'Milliseconds', 0])
  const text = await allText({ logged, metrics })
  expect(text).not.toContain(secretMarker)
  expect(text).not.toContain(testToken)
})
