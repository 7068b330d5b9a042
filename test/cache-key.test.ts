import middy from '@middy/core'
import ssm from '@middy/ssm'
import { clearCache, getCache } from '@middy/util'
import { describe, expect, test } from 'vitest'
import { extensionSecrets, parameter } from '../src/index.js'
import { lambdaContext, testToken, useEmulator } from './helpers.js'

// `cacheKey` names this package's store in @middy/util's shared cache (issue 11, finding 10): any name,
// '__proto__' and @middy/ssm's own 'ssm' included, must cache, be emptied by clearCache(), and leave every
// other middleware's entries alone.

const start = useEmulator()

/** An SSM client for @middy/ssm that answers GetParameters from memory and counts its calls. */
const fakeSsm = () => {
  const calls: string[][] = []
  class FakeSSMClient {
    async send(command: { input: { Names: string[] } }) {
      calls.push(command.input.Names)
      return { Parameters: command.input.Names.map((name) => ({ Name: name, Value: `ssm:${name}` })) }
    }
  }
  return { calls, AwsClient: FakeSSMClient as never }
}

const chainWith = (port: number, cacheKey: string, client: ReturnType<typeof fakeSsm>) =>
  middy()
    .use(
      ssm({
        AwsClient: client.AwsClient,
        fetchData: { fromSsm: '/app/from-ssm' },
        setToContext: true,
        disablePrefetch: true,
        cacheExpiry: -1,
      }),
    )
    .use(
      extensionSecrets({
        fetchData: { url: parameter('/app/api-url') },
        port,
        token: testToken,
        cacheKey,
        cacheExpiry: 60_000,
      }),
    )
    .handler(async (_event, context) => [context.fromSsm, context.url])

// @middy/ssm 6 imports its own @middy/util by a relative path: in the Middy 7 run (aliased @middy/util) the
// two middlewares do not share a cache, so there is nothing to collide.
const sharedUtil = process.env.MIDDY_MAJOR !== '7'

describe.runIf(sharedUtil).each(['__proto__', 'ssm', 'constructor', 'default'])('cacheKey %j', (cacheKey) => {
  test('caches, is emptied by clearCache(), and leaves @middy/ssm (cacheKey "ssm") alone', async () => {
    const prototypeKeys = Object.getOwnPropertyNames(Object.prototype)
    const emulator = await start()
    const client = fakeSsm()
    const handler = chainWith(emulator.port, cacheKey, client)
    const expected = ['ssm:/app/from-ssm', 'https://api.example.com']

    expect(await handler({}, lambdaContext())).toEqual(expected)
    expect(await handler({}, lambdaContext())).toEqual(expected)
    // Both caches hit on the second invocation.
    expect(emulator.requests).toHaveLength(1)
    expect(client.calls).toHaveLength(1)
    // @middy/ssm's entry is still its own object of values, not this package's store.
    expect(Object.keys(getCache('ssm').value ?? {})).toEqual(['fromSsm'])
    expect(getCache('ssm').value).not.toBeInstanceOf(Map)
    expect(Object.getOwnPropertyNames(Object.prototype)).toEqual(prototypeKeys)

    clearCache()
    expect(await handler({}, lambdaContext())).toEqual(expected)
    // clearCache() emptied both: each asked again once.
    expect(emulator.requests).toHaveLength(2)
    expect(client.calls).toHaveLength(2)
    expect(await handler({}, lambdaContext())).toEqual(expected)
    expect(emulator.requests).toHaveLength(2)
  })
})

test('two middlewares with different cacheKeys keep separate stores; clearCache(name) empties one', async () => {
  const emulator = await start()
  const handlerFor = (cacheKey: string) =>
    middy()
      .use(
        extensionSecrets({
          fetchData: { url: parameter('/app/api-url') },
          port: emulator.port,
          token: testToken,
          cacheKey,
          cacheExpiry: 60_000,
        }),
      )
      .handler(async (_event, context) => context.url)
  const a = handlerFor('__proto__')
  const b = handlerFor('ssm')
  await a({}, lambdaContext())
  await b({}, lambdaContext())
  expect(emulator.requests).toHaveLength(2)
  clearCache(['middy-extension-secrets:__proto__'])
  await a({}, lambdaContext())
  await b({}, lambdaContext())
  expect(emulator.requests).toHaveLength(3)
})
