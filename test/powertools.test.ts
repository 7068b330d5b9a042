import middy from '@middy/core'
import { expect, test } from 'vitest'
import { extensionSecrets, secret } from '../src/index.js'
import { type LoggerLike, type MetricsLike, metricNames, powertoolsEvents } from '../src/powertools.js'
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
        fetchData: {
          key: secret('prod/plain'),
          db: secret('prod/db'),
          next: secret('prod/plain', { versionStage: 'AWSPENDING', optional: true }),
        },
        port: server.port,
        token: testToken,
        retry: { maxRetryTime: 300 },
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
  // A missing optional value is normal: debug, and counted.
  expect(logged).toContainEqual({
    level: 'debug',
    message: 'middy-extension-secrets missing',
    extra: { extensionSecrets: expect.objectContaining({ type: 'missing', key: 'next', status: 400 }) },
  })
  expect(metrics).toContainEqual(['ExtensionSecretsMissing', 'Count', 1])
  expect(logged.map((entry) => entry.level).sort()).toEqual(['debug', 'debug', 'warn'])
  expect(metrics).toHaveLength(4)
  const text = await allText({ logged, metrics })
  expect(text).not.toContain(secretMarker)
  expect(text).not.toContain(testToken)
})

test('hits and stale values are logged and counted under their stable metric names', async () => {
  const server = await start()
  const { logged, metrics, logger, metricsLike } = recorders()
  const middleware = extensionSecrets({
    fetchData: { key: secret('prod/plain') },
    port: server.port,
    token: testToken,
    // Wide enough that a busy machine cannot let the value expire between the first two invocations.
    cacheExpiry: 1_000,
    staleIfError: { maxStale: 60_000 },
    onEvent: powertoolsEvents({ logger, metrics: metricsLike }),
  })
  const handler = middy()
    .use(middleware)
    .handler(async () => 'ok')
  await handler({}, lambdaContext())
  await handler({}, lambdaContext())
  await new Promise((resolve) => setTimeout(resolve, 1_050))
  server.setFaults([{ action: 'respond', status: 503 }])
  await handler({}, lambdaContext(400))
  expect(logged.map((entry) => `${entry.level} ${entry.message}`)).toEqual([
    'debug middy-extension-secrets fetched',
    'debug middy-extension-secrets hit',
    'warn middy-extension-secrets stale',
  ])
  expect(metrics.map(([name]) => name)).toEqual([
    metricNames.fetched,
    'ExtensionSecretsFetchTime',
    metricNames.hit,
    metricNames.stale,
  ])
  expect(metricNames).toEqual({
    hit: 'ExtensionSecretsCacheHit',
    fetched: 'ExtensionSecretsFetch',
    failed: 'ExtensionSecretsFailure',
    stale: 'ExtensionSecretsStaleServed',
    missing: 'ExtensionSecretsMissing',
  })
})
