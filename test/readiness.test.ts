import middy from '@middy/core'
import { expect, test } from 'vitest'
import type { FaultRule } from '../src/emulator/index.js'
import { ExtensionSecretsError, extensionSecrets, isTransientError, parameter, secret } from '../src/index.js'
import { lambdaContext, testToken, useEmulator } from './helpers.js'

// The shared readiness gate (src/extension.ts): while the extension is not ready, one key probes and the
// others wait for it; when it answers, every waiting key goes at once. Counted at the server, against
// what one key alone makes the extension answer in the same schedule.

const start = useEmulator()

/** Refusing for 300 ms, then the layer's not-ready 400 for 300 ms, then serving. */
const cold: FaultRule[] = [
  { action: 'refuse', forMs: 300 },
  { action: 'not-ready', afterMs: 300, forMs: 300 },
]

const coldStart = async (keys: number) => {
  const names = Array.from({ length: keys }, (_, index) => `/app/key-${index}`)
  const emulator = await start({
    values: { parameters: Object.fromEntries(names.map((name) => [name, `value of ${name}`])) },
    faults: cold,
  })
  const fetchData = Object.fromEntries(names.map((name, index) => [`key${index}`, parameter(name)]))
  const handler = middy()
    .use(extensionSecrets({ fetchData, port: emulator.port, token: testToken }))
    .handler(async (_event, context) => names.map((_name, index) => context[`key${index}`]))
  const values = await handler({}, lambdaContext(10_000))
  expect(values).toEqual(names.map((name) => `value of ${name}`))
  const outcomes = emulator.requests.map((request) => request.outcome)
  return {
    notReady: outcomes.filter((outcome) => outcome === 'not-ready').length,
    outcomes,
    served: emulator.requests
      .filter((request) => request.outcome === 'served')
      .map((request) => request.query.name),
  }
}

test('five keys waiting for a cold extension poll it as one key does, then are all served at once', async () => {
  const alone = await coldStart(1)
  const five = await coldStart(5)
  // The schedule reached the not-ready phase, for one key and for five.
  expect(alone.notReady).toBeGreaterThan(2)
  expect(five.notReady).toBeGreaterThan(2)
  // Five independent pollers would make about five times the not-ready answers of one; the gate keeps
  // five keys near one key's count.
  expect(five.notReady).toBeLessThan(5 * alone.notReady)
  expect(five.notReady).toBeLessThan(2 * alone.notReady + 3)
  // Once the extension serves, nothing more is polled: the first 200 is followed by exactly the other
  // four keys, each asked once, and nothing else.
  const firstServed = five.outcomes.indexOf('served')
  expect(five.outcomes.slice(0, firstServed).every((outcome) => outcome === 'not-ready')).toBe(true)
  expect(five.outcomes.slice(firstServed)).toEqual(Array(5).fill('served'))
  expect([...five.served].sort()).toEqual([
    '/app/key-0',
    '/app/key-1',
    '/app/key-2',
    '/app/key-3',
    '/app/key-4',
  ])
})

test('the keys of concurrent invocations share the gate too', async () => {
  const names = ['/app/a', '/app/b', '/app/c']
  const emulator = await start({
    values: { parameters: Object.fromEntries(names.map((name) => [name, name])) },
    faults: [{ action: 'not-ready', forMs: 300 }],
  })
  const handler = middy()
    .use(
      extensionSecrets({
        fetchData: { a: parameter('/app/a'), b: parameter('/app/b'), c: parameter('/app/c') },
        port: emulator.port,
        token: testToken,
      }),
    )
    .handler(async (_event, context) => [context.a, context.b, context.c])
  const results = await Promise.all(Array.from({ length: 4 }, () => handler({}, lambdaContext(10_000))))
  expect(results).toEqual(Array(4).fill(names))
  const outcomes = emulator.requests.map((request) => request.outcome)
  const firstServed = outcomes.indexOf('served')
  // 4 invocations × 3 keys, caching off: 12 requests once ready, and polling only before.
  expect(outcomes.slice(firstServed)).toEqual(Array(12).fill('served'))
  // One poller for the 12 keys: its backoff (5-8 ms, randomized ×1-2) allows at most ~60 in 300 ms,
  // where twelve independent pollers would make hundreds.
  expect(firstServed).toBeGreaterThan(2)
  expect(firstServed).toBeLessThan(80)
})

/** A raw extension on loopback that answers each request as `reply` says (a hang when it returns nothing). */
const scripted = async (reply: (path: string, count: number) => [number, string] | undefined) => {
  const { createServer } = await import('node:http')
  let count = 0
  const paths: string[] = []
  const server = createServer((request, response) => {
    paths.push(request.url ?? '')
    const answer = reply(request.url ?? '', ++count)
    if (answer === undefined) return // hangs until the client gives up
    response.writeHead(answer[0]).end(answer[1])
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as { port: number }
  return {
    port,
    paths,
    close: () => {
      server.closeAllConnections()
      return new Promise((resolve) => server.close(resolve))
    },
  }
}

const parameterBody = (value: string) => JSON.stringify({ Parameter: { Type: 'String', Value: value } })

test('a probe that the extension accepted but does not answer yet holds no other key: the gate opens', async () => {
  const server = await scripted((path, count) => {
    if (count <= 2) return [400, 'not ready to serve traffic, please wait']
    // A cache miss of the secret that hangs upstream; the parameter is served at once.
    return path.startsWith('/secretsmanager') ? undefined : [200, parameterBody('b-value')]
  })
  try {
    const handler = middy()
      .use(
        extensionSecrets({
          fetchData: { a: secret('a'), b: parameter('/b') },
          port: server.port,
          token: testToken,
        }),
      )
      .handler(async () => 'never')
    const error = (await handler({}, lambdaContext(1_000)).catch(
      (failure: unknown) => failure,
    )) as ExtensionSecretsError
    // Only the hanging key fails, as TIMEOUT (its last attempt hung): b was served.
    expect(error.errors?.map((inner) => [inner.key, inner.code])).toEqual([['a', 'TIMEOUT']])
    expect(server.paths.filter((path) => path.startsWith('/systemsmanager')).length).toBeGreaterThanOrEqual(1)
  } finally {
    await server.close()
  }
})

test('429, 5xx and throttling are retried with a growing backoff, not every few milliseconds per key', async () => {
  const server = await scripted(() => [503, 'Service Unavailable'])
  try {
    const fetchData = Object.fromEntries(
      ['a', 'b', 'c', 'd', 'e'].map((name) => [name, parameter(`/${name}`)]),
    )
    const handler = middy()
      .use(extensionSecrets({ fetchData, port: server.port, token: testToken }))
      .handler(async () => 'never')
    const error = (await handler({}, lambdaContext(1_250)).catch(
      (failure: unknown) => failure,
    )) as ExtensionSecretsError
    expect(error.errors?.every((inner) => inner.code === 'UPSTREAM_ERROR' && inner.status === 503)).toBe(true)
    // About a second of retries: with the backoff of 0.1's defaults alone, five keys sent over 500.
    expect(server.paths.length).toBeLessThan(100)
    expect(server.paths.length).toBeGreaterThan(10)
  } finally {
    await server.close()
  }
})

test("the agent's throttling is not an absent optional value, and is transient for staleIfError", async () => {
  const throttling = JSON.stringify({ __type: 'ThrottlingException', message: 'Rate exceeded' })
  const server = await scripted(() => [400, throttling])
  try {
    const events: string[] = []
    const handler = middy()
      .use(
        extensionSecrets({
          fetchData: { previous: secret('prod/key', { versionStage: 'AWSPREVIOUS', optional: true }) },
          port: server.port,
          token: testToken,
          onEvent: (event) => {
            events.push(event.type)
          },
        }),
      )
      .handler(async (_event, context) => context.previous)
    const error = (await handler({}, lambdaContext(600)).catch(
      (failure: unknown) => failure,
    )) as ExtensionSecretsError
    expect(error).toBeInstanceOf(ExtensionSecretsError)
    expect(error.errors?.[0]).toMatchObject({ code: 'UPSTREAM_ERROR', status: 400 })
    expect(isTransientError(error.errors![0]!)).toBe(true)
    expect(events).toEqual(['failed'])
    expect(server.paths.length).toBeGreaterThan(1)
  } finally {
    await server.close()
  }
})

test('an async schema that never settles ends at the deadline, as VALIDATION_ERROR', async () => {
  const server = await scripted(() => [200, parameterBody('value')])
  try {
    const never = {
      '~standard': { version: 1 as const, vendor: 'test', validate: () => new Promise<never>(() => {}) },
    }
    const handler = middy()
      .use(
        extensionSecrets({
          fetchData: { a: parameter('/a', { schema: never }) },
          port: server.port,
          token: testToken,
        }),
      )
      .handler(async () => 'never')
    const started = performance.now()
    const error = (await handler({}, lambdaContext(600)).catch(
      (failure: unknown) => failure,
    )) as ExtensionSecretsError
    expect(error.errors?.[0]?.code).toBe('VALIDATION_ERROR')
    expect(performance.now() - started).toBeLessThan(3_000)
  } finally {
    await server.close()
  }
})

test("a key waiting for another middleware's probe keeps its own retry budget", async () => {
  // A port nothing listens on: every connection is refused.
  const { createServer } = await import('node:net')
  const probe = createServer()
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve))
  const { port } = probe.address() as { port: number }
  await new Promise((resolve) => probe.close(resolve))
  const patient = middy()
    .use(
      extensionSecrets({
        fetchData: { a: parameter('/a') },
        port,
        token: testToken,
        retry: { minTimeout: 400, maxRetryTime: 3_000 },
      }),
    )
    .handler(async () => 'never')
  const once = middy()
    .use(
      extensionSecrets({ fetchData: { b: parameter('/b') }, port, token: testToken, retry: { retries: 0 } }),
    )
    .handler(async () => 'never')
  const long = patient({}, lambdaContext(5_000)).catch((failure: unknown) => failure)
  await new Promise((resolve) => setTimeout(resolve, 20))
  const started = performance.now()
  const error = (await once({}, lambdaContext(5_000)).catch(
    (failure: unknown) => failure,
  )) as ExtensionSecretsError
  // retries: 0 is one attempt, whoever probes the extension meanwhile.
  expect(error.errors?.[0]).toMatchObject({ code: 'EXTENSION_UNREACHABLE' })
  expect(performance.now() - started).toBeLessThan(1_000)
  expect(await long).toBeInstanceOf(ExtensionSecretsError)
}, 10_000)
