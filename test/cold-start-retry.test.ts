import middy from '@middy/core'
import { clearCache } from '@middy/util'
import { afterEach, describe, expect, it } from 'vitest'
import { createAccount, type Emulator, startEmulator } from '../src/emulator/index.js'
import {
  type ExtensionSecretsEvent,
  type ExtensionSecretsOptions,
  extensionSecrets,
  parameter,
  secret,
} from '../src/index.js'
import {
  allText,
  failureOf,
  lambdaContext,
  secretMarker,
  testToken,
  urlHandler,
  useEmulator,
} from './helpers.js'

// coldStartRetry against the emulator's account quota over real HTTP: a storm of environments sharing
// one Parameter Store quota, each with its own layer and its own middleware. The layer's SDK retries a
// throttled call upstream, so its generic 400 comes late; a name that does not exist gets it at once.
// Upstream attempts take 350 ms here, so a throttled read's 400 comes after 1,050 ms, past the 1 s rule.

const storm: Emulator[] = []
afterEach(async () => {
  clearCache()
  await Promise.all(storm.splice(0).map((emulator) => emulator.close()))
})

const names = ['/app/a', '/app/b', '/app/c']
const stormValues = {
  parameters: Object.fromEntries(names.map((name) => [name, `${name}-value`])),
  secrets: { 'prod/key': `${secretMarker}-storm` },
}

/** Eight execution environments starting together, 24 reads against a quota of 10 a second. */
const runStorm = async (options: Partial<ExtensionSecretsOptions>) => {
  const account = createAccount({ getParameterPerSecond: 10 })
  const events: ExtensionSecretsEvent[] = []
  const environments = await Promise.all(
    Array.from({ length: 8 }, async () => {
      const emulator = await startEmulator({
        values: stormValues,
        token: testToken,
        account,
        upstream: { parameterLatencyMs: 350, retryBackoffMs: 0 },
      })
      storm.push(emulator)
      const handler = middy()
        .use(
          extensionSecrets({
            fetchData: {
              a: parameter('/app/a'),
              b: parameter('/app/b'),
              c: parameter('/app/c'),
            },
            port: emulator.port,
            token: testToken,
            onEvent: (event) => events.push(event),
            ...options,
          }),
        )
        .handler(async (_event, context) => [context.a, context.b, context.c].join(' '))
      return { emulator, handler }
    }),
  )
  const outcomes = await Promise.allSettled(
    environments.map(({ handler }) => handler({}, lambdaContext(10_000))),
  )
  const throttled = storm.flatMap((emulator) =>
    emulator.requests.filter((request) => request.diagnosis === 'throttled'),
  )
  return { outcomes, events, throttled, requests: storm.reduce((sum, e) => sum + e.requests.length, 0) }
}

describe('coldStartRetry in a cold-start storm (shared account quota, real HTTP)', () => {
  it('off (the default): throttled first reads fail the first invocation with the layer’s 400', async () => {
    const { outcomes, throttled } = await runStorm({})
    expect(throttled.length).toBeGreaterThan(0)
    const failed = outcomes.filter((outcome) => outcome.status === 'rejected')
    expect(failed.length).toBeGreaterThan(0)
    for (const outcome of failed) {
      const error = (outcome as PromiseRejectedResult).reason
      expect(error.code).toBe('FETCH_FAILED')
      expect(error.errors.map((each: { code: string }) => each.code)).toContain('UPSTREAM_ERROR')
      expect(error.errors.find((each: { status?: number }) => each.status === 400)).toBeDefined()
    }
  })

  it('on: every environment starts, its values right, having asked again after throttled 400s', async () => {
    const { outcomes, events, throttled, requests } = await runStorm({
      coldStartRetry: { retries: 10, minTimeout: 200, maxTimeout: 800 },
    })
    expect(throttled.length).toBeGreaterThan(0)
    expect(outcomes.map((outcome) => outcome.status)).toEqual(new Array(8).fill('fulfilled'))
    for (const outcome of outcomes)
      expect((outcome as PromiseFulfilledResult<string>).value).toBe('/app/a-value /app/b-value /app/c-value')
    // More requests than values: some were asked again. The events count them as attempts.
    expect(requests).toBeGreaterThan(24)
    const fetched = events.filter((event) => event.type === 'fetched')
    expect(fetched).toHaveLength(24)
    expect(fetched.some((event) => event.type === 'fetched' && event.attempts > 1)).toBe(true)
  })
})

describe('coldStartRetry: which 400s are asked again', () => {
  const start = useEmulator()
  /**
   * An emulator whose account has no quota left: a read is throttled upstream, three attempts of 350 ms,
   * so the layer's generic 400 comes after 1,050 ms, until the quota refills at `perSecond`.
   */
  const throttledEmulator = async (perSecond: number) => {
    const account = createAccount({ getParameterPerSecond: perSecond })
    const emulator = await start({ account, upstream: { parameterLatencyMs: 350, retryBackoffMs: 0 } })
    const drain = () => {
      while (account.take('parameter', performance.now()));
    }
    drain()
    return { emulator, drain }
  }
  const handlerFor = (emulator: Emulator, options: Partial<ExtensionSecretsOptions> = {}) =>
    urlHandler(emulator.port, { coldStartRetry: { retries: 5, minTimeout: 20, maxTimeout: 40 }, ...options })
  const diagnoses = (emulator: Emulator) => emulator.requests.map((request) => request.diagnosis)

  it('a late generic 400 for a value never had: asked again until it is served', async () => {
    // Half a read a second: the first request's three attempts find no quota, a later one does.
    const { emulator } = await throttledEmulator(0.5)
    const handler = handlerFor(emulator)
    expect(await handler({}, lambdaContext(10_000))).toBe('https://api.example.com')
    expect(diagnoses(emulator)[0]).toBe('throttled')
    expect(diagnoses(emulator).at(-1)).toBe('miss')
  })

  it('a fast generic 400 (a name that does not exist) fails at once: one request', async () => {
    const emulator = await start()
    const handler = handlerFor(emulator, { fetchData: { url: parameter('/app/does-not-exist') } })
    const error = await failureOf(() => handler({}, lambdaContext(10_000)))
    expect(error.errors![0]!.code).toBe('UPSTREAM_ERROR')
    expect(error.errors![0]!.attempts).toBe(1)
    // Long enough for a retry after 20–40 ms to have been sent.
    await new Promise((resolve) => setTimeout(resolve, 200))
    expect(emulator.requests).toHaveLength(1)
  })

  it('a missing name among 20 values, queued behind the others for the layer’s 3 connections: one request', async () => {
    const names = Array.from({ length: 20 }, (_, index) => `/app/value-${index}`)
    const emulator = await start({
      values: { parameters: Object.fromEntries(names.map((name) => [name, 'text'])) },
      upstream: { parameterLatencyMs: 40 },
    })
    const fetchData = Object.fromEntries(names.map((name, index) => [`v${index}`, parameter(name)]))
    const handler = handlerFor(emulator, { fetchData: { ...fetchData, typo: parameter('/app/value-typo') } })
    const error = await failureOf(() => handler({}, lambdaContext(10_000)))
    expect(error.errors!.map((each) => each.key)).toEqual(['typo'])
    await new Promise((resolve) => setTimeout(resolve, 200))
    expect(emulator.requests.filter((request) => request.query.name === '/app/value-typo')).toHaveLength(1)
  })

  it('the Secrets Manager Agent’s named 400 is not asked again', async () => {
    const emulator = await start({ flavour: 'agent' })
    const handler = handlerFor(emulator, { fetchData: { url: secret('prod/none') } })
    const error = await failureOf(() => handler({}, lambdaContext(10_000)))
    expect(error.errors![0]!.code).toBe('UPSTREAM_ERROR')
    expect(emulator.requests).toHaveLength(1)
  })

  it('a value this process already had is not asked again: its late 400 fails at once', async () => {
    const { emulator, drain } = await throttledEmulator(0.5)
    const handler = handlerFor(emulator)
    expect(await handler({}, lambdaContext(10_000))).toBe('https://api.example.com')
    const before = emulator.requests.length
    emulator.clearCache()
    drain()
    const error = await failureOf(() => handler({}, lambdaContext(10_000)))
    expect(error.errors![0]!.code).toBe('UPSTREAM_ERROR')
    expect(error.errors![0]!.reason).toMatch(/after \d+ ms: likely throttled upstream/)
    expect(diagnoses(emulator).slice(before)).toEqual(['throttled'])
  })

  it('the deadline ends the retries with the last 400, not a timeout, before the function’s end', async () => {
    const { emulator } = await throttledEmulator(0.01)
    const events: ExtensionSecretsEvent[] = []
    const handler = handlerFor(emulator, {
      coldStartRetry: { retries: 1000, minTimeout: 50, maxTimeout: 100 },
      onEvent: (event) => events.push(event),
    })
    const context = lambdaContext(3_000)
    const error = await failureOf(() => handler({}, context))
    expect(error.errors![0]!.code).toBe('UPSTREAM_ERROR')
    expect(error.errors![0]!.status).toBe(400)
    expect(context.getRemainingTimeInMillis()).toBeGreaterThan(0)
    expect(emulator.requests.length).toBeGreaterThan(1)
    const failed = events.find((event) => event.type === 'failed')
    expect(failed?.type === 'failed' && failed.attempts).toBe(emulator.requests.length)
  })

  it('without a Lambda deadline, retry.maxRetryTime bounds the retries', async () => {
    const { emulator } = await throttledEmulator(0.01)
    const handler = handlerFor(emulator, {
      coldStartRetry: { retries: 1000, minTimeout: 20, maxTimeout: 40 },
      retry: { maxRetryTime: 1_500 },
    })
    const error = await failureOf(() => handler({}, {} as never))
    expect(error.errors![0]!.code).toBe('UPSTREAM_ERROR')
    expect(emulator.requests.length).toBeLessThanOrEqual(3)
  })

  it('an optional value that exists but is throttled is an error, not undefined, with or without it', async () => {
    for (const coldStartRetry of [undefined, { retries: 0 }]) {
      const { emulator } = await throttledEmulator(0.01)
      const handler = urlHandler(emulator.port, {
        fetchData: { url: parameter('/app/api-url', { optional: true }) },
        ...(coldStartRetry ? { coldStartRetry } : {}),
      })
      const error = await failureOf(() => handler({}, lambdaContext(10_000)))
      expect(error.errors![0]!.code).toBe('UPSTREAM_ERROR')
    }
  })

  it('staleIfError covers a late 400 (a throttled refresh) by default: it is transient', async () => {
    const { emulator, drain } = await throttledEmulator(0.5)
    const events: ExtensionSecretsEvent[] = []
    const handler = urlHandler(emulator.port, {
      cacheExpiry: 50,
      staleIfError: { maxStale: 60_000 },
      onEvent: (event) => events.push(event),
    })
    // No quota at first: the layer's own retries find a token after about a second.
    drain()
    await failureOf(() => handler({}, lambdaContext(10_000)))
    await new Promise((resolve) => setTimeout(resolve, 2_000))
    expect(await handler({}, lambdaContext(10_000))).toBe('https://api.example.com')
    await new Promise((resolve) => setTimeout(resolve, 100))
    emulator.clearCache()
    drain()
    expect(await handler({}, lambdaContext(10_000))).toBe('https://api.example.com')
    const stale = events.find((event) => event.type === 'stale')
    expect(stale?.type === 'stale' && stale.code).toBe('UPSTREAM_ERROR')
  })

  it('a concurrent invocation that joined a fetch the other’s deadline cut asks again in its own time', async () => {
    const { emulator } = await throttledEmulator(0.5)
    const handler = handlerFor(emulator, { cacheExpiry: 60_000 })
    const short = handler({}, lambdaContext(1_800))
    await new Promise((resolve) => setTimeout(resolve, 20))
    const long = handler({}, lambdaContext(10_000))
    const [first, second] = await Promise.allSettled([short, long])
    expect(first.status).toBe('rejected')
    expect((first as PromiseRejectedResult).reason.errors[0].code).toBe('UPSTREAM_ERROR')
    expect(second).toEqual({ status: 'fulfilled', value: 'https://api.example.com' })
  })

  it('retries: 0 asks once', async () => {
    const { emulator } = await throttledEmulator(0.01)
    const handler = handlerFor(emulator, { coldStartRetry: { retries: 0 } })
    await failureOf(() => handler({}, lambdaContext(10_000)))
    expect(emulator.requests).toHaveLength(1)
  })

  it('never puts the token or a secret in what it reports', async () => {
    const { emulator } = await throttledEmulator(0.01)
    const events: ExtensionSecretsEvent[] = []
    const handler = handlerFor(emulator, {
      fetchData: { url: parameter('/app/api-url'), key: secret('prod/plain') },
      coldStartRetry: { retries: 2, minTimeout: 10, maxTimeout: 20 },
      onEvent: (event) => events.push(event),
    })
    const error = await failureOf(() => handler({}, lambdaContext(10_000)))
    expect(error.errors).toHaveLength(1)
    const text = await allText({ error, events })
    expect(text).not.toContain(testToken)
    expect(text).not.toContain(secretMarker)
    expect(diagnoses(emulator).filter((diagnosis) => diagnosis === 'throttled')).toHaveLength(3)
  })
})

describe('coldStartRetry: option errors at creation', () => {
  const create = (coldStartRetry: unknown) => () =>
    extensionSecrets({ fetchData: { a: parameter('/a') }, coldStartRetry: coldStartRetry as never })

  it('refuses what is not an object of p-retry options', () => {
    expect(create(3)).toThrow(/`coldStartRetry` must be an object of p-retry options/)
    expect(create(true)).toThrow(TypeError)
  })

  it('refuses unknown keys, maxRetryTime among them: the deadline bounds it', () => {
    expect(create({ forever: true })).toThrow(/`coldStartRetry.forever` is not a known option/)
    expect(create({ maxRetryTime: 1000 })).toThrow(/`coldStartRetry.maxRetryTime` is not a known option/)
  })

  it('leaves the values to p-retry: a bad one fails the first invocation, naming the option, nothing sent', async () => {
    const emulator = await startEmulator({ values: stormValues, token: testToken })
    storm.push(emulator)
    const handler = urlHandler(emulator.port, {
      fetchData: { url: parameter('/app/a') },
      coldStartRetry: { retries: -1 },
    })
    await expect(handler({}, lambdaContext(10_000))).rejects.toThrow(
      /middy-extension-secrets: `coldStartRetry`: Expected `retries` to be a non-negative number/,
    )
    expect(emulator.requests).toHaveLength(0)
  })

  it('a bad `retry` value under a good coldStartRetry is named as `retry`, once', async () => {
    const emulator = await startEmulator({ values: stormValues, token: testToken })
    storm.push(emulator)
    const handler = urlHandler(emulator.port, {
      fetchData: { url: parameter('/app/a') },
      retry: { factor: 'fast' as never },
      coldStartRetry: { retries: 1 },
    })
    const error = await handler({}, lambdaContext(10_000)).catch((caught: Error) => caught)
    expect(String(error)).toMatch(
      /^TypeError: middy-extension-secrets: `retry`: Expected `factor` to be a number/,
    )
    expect(String(error).match(/middy-extension-secrets/g)).toHaveLength(1)
  })
})
