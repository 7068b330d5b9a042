import middy from '@middy/core'
import { describe, expect, test } from 'vitest'
import { extensionSecrets, parameter, secret } from '../src/index.js'
import { fixtureValues, lambdaContext, secretMarker, testToken, useEmulator } from './helpers.js'
import { clientSockets, maxFreeSockets } from './leaks.js'

// Many invocations at once in one process, as with Lambda Managed Instances or a local server.

const start = useEmulator()
const invocations = 1_000

describe('1,000 concurrent invocations', () => {
  test('with the cache on, each distinct source is requested exactly once', async () => {
    // The delay keeps the first fetches in flight while every other invocation arrives.
    const emulator = await start({ faults: [{ action: 'delay', ms: 50 }] })
    const handler = middy()
      .use(
        extensionSecrets({
          fetchData: {
            db: secret('prod/db'),
            password: secret('prod/db', { field: 'password' }),
            url: parameter('/app/api-url'),
            key: parameter('/app/signing-key'),
          },
          port: emulator.port,
          token: testToken,
          cacheExpiry: 60_000,
        }),
      )
      .handler(async (_event, context) => [context.password, context.url, context.key])
    const results = await Promise.all(
      Array.from({ length: invocations }, () => handler({}, lambdaContext(30_000))),
    )
    const expected = [
      `${secretMarker}-db-password`,
      fixtureValues.parameters['/app/api-url'],
      `${secretMarker}-signing-key`,
    ]
    expect(results).toEqual(Array(invocations).fill(expected))
    // prod/db (read whole and by field), /app/api-url and /app/signing-key.
    expect(emulator.requests.map((request) => request.query.secretId ?? request.query.name).sort()).toEqual([
      '/app/api-url',
      '/app/signing-key',
      'prod/db',
    ])
  })

  test(`with the cache off, at most ${maxFreeSockets} requests are in flight, whatever the number of invocations`, async () => {
    const delayMs = 40
    const emulator = await start({ cacheEnabled: false, faults: [{ action: 'delay', ms: delayMs }] })
    const handler = middy()
      .use(
        extensionSecrets({
          fetchData: { url: parameter('/app/api-url') },
          port: emulator.port,
          token: testToken,
        }),
      )
      .handler(async (_event, context) => context.url)
    let mostSockets = 0
    const sampler = setInterval(() => {
      mostSockets = Math.max(mostSockets, clientSockets(emulator.port))
    }, 5)
    let results: unknown[]
    try {
      results = await Promise.all(
        Array.from({ length: invocations }, () => handler({}, lambdaContext(60_000))),
      )
    } finally {
      clearInterval(sampler)
    }
    expect(results).toEqual(Array(invocations).fill(fixtureValues.parameters['/app/api-url']))
    expect(emulator.requests).toHaveLength(invocations)
    // Every request held by the delay is in flight until it ends, so the requests that arrive within
    // one delay of each other were all in flight together.
    const arrivals = emulator.requests.map((request) => request.at).sort((a, b) => a - b)
    let mostInFlight = 0
    for (let first = 0, last = 0; last < arrivals.length; last++) {
      while (arrivals[last]! - arrivals[first]! >= delayMs - 1) first++
      mostInFlight = Math.max(mostInFlight, last - first + 1)
    }
    expect(mostInFlight).toBeLessThanOrEqual(maxFreeSockets)
    // Well above one: the bound was reached for, not avoided by running one at a time.
    expect(mostInFlight).toBeGreaterThan(maxFreeSockets / 2)
    expect(mostSockets).toBeGreaterThan(1)
    expect(mostSockets).toBeLessThanOrEqual(maxFreeSockets)
  })
})
