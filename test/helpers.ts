import middy from '@middy/core'
import { clearCache } from '@middy/util'
import type { Context } from 'aws-lambda'
import { afterEach, beforeEach, expect, vi } from 'vitest'
import { type Emulator, type EmulatorOptions, startEmulator } from '../src/emulator/index.js'
import {
  ExtensionSecretsError,
  type ExtensionSecretsOptions,
  extensionSecrets,
  parameter,
} from '../src/index.js'

/** A session token for tests; a marker string, so a leak is found by a plain search. */
export const testToken = 'TOKEN-MARKER-7f3a9c1e-session'

/** Secret values carry a marker too, so finding one in output is never a coincidence. */
export const secretMarker = 'SECRET-MARKER-b41d'

export const fixtureValues = {
  parameters: {
    '/app/api-url': 'https://api.example.com',
    '/app/hosts': { type: 'StringList', value: ['a.example.com', 'b.example.com'] },
    '/app/signing-key': { type: 'SecureString', value: `${secretMarker}-signing-key` },
    '/app/flags': {
      versions: ['{"beta":false}', '{"beta":true}', '{"beta":true,"dark":true}'],
      labels: { Prod: 2 },
    },
    '/app/json-looking': '[not json',
  },
  secrets: {
    'prod/db': { json: { username: 'app', password: `${secretMarker}-db-password` } },
    'prod/api-key': {
      versions: [
        { stages: ['AWSPREVIOUS'], string: `${secretMarker}-old-key` },
        { stages: ['AWSCURRENT'], string: `${secretMarker}-new-key` },
      ],
    },
    'prod/cert': { binary: Buffer.from([0, 1, 2, 3, 254, 255]).toString('base64') },
    'prod/plain': `${secretMarker}-plain`,
  },
} as const

/**
 * A Lambda context whose remaining time counts down from `remainingMs`, as Lambda's does. Typed loosely
 * because Middy types a handler's context parameter with what its middlewares add.
 */
export const lambdaContext = (remainingMs = 3_000): any => {
  const end = Date.now() + remainingMs
  const context: Context = {
    callbackWaitsForEmptyEventLoop: true,
    functionName: 'test-function',
    functionVersion: '$LATEST',
    invokedFunctionArn: 'arn:aws:lambda:us-east-1:123456789012:function:test-function',
    memoryLimitInMB: '128',
    awsRequestId: 'c6af9ac6-7b61-11e6-9a41-93e812345678',
    logGroupName: '/aws/lambda/test-function',
    logStreamName: '2026/11/28/[$LATEST]abcdef',
    getRemainingTimeInMillis: () => end - Date.now(),
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
  }
  return context
}

/** Starts an emulator with the fixture values and the test token, closed by the returned function. */
export const emulatorWith = async (options: EmulatorOptions = {}): Promise<Emulator> =>
  startEmulator({ values: fixtureValues as never, token: testToken, ...options })

/** Everything a test could print about an object: its JSON, its full inspection with hidden fields. */
export const allText = async (value: unknown): Promise<string> => {
  const { inspect } = await import('node:util')
  let json = ''
  try {
    json = JSON.stringify(value)
  } catch {}
  return `${json}\n${inspect(value, { depth: 10, showHidden: true, getters: true })}\n${String(value)}`
}

/**
 * Gives a test file a `start` that runs an emulator for one test; after each test the emulator is closed
 * and `@middy/util`'s cache cleared, as Middy's own tests do.
 */
export const useEmulator = () => {
  const running: Emulator[] = []
  afterEach(async () => {
    clearCache()
    await Promise.all(running.splice(0).map((emulator) => emulator.close()))
  })
  return async (options: EmulatorOptions = {}): Promise<Emulator> => {
    const emulator = await emulatorWith(options)
    running.push(emulator)
    return emulator
  }
}

/** Runs an invocation and returns its error, failing the test if it succeeded. */
export const failureOf = async (run: () => Promise<unknown>): Promise<ExtensionSecretsError> => {
  try {
    await run()
  } catch (error) {
    expect(error).toBeInstanceOf(ExtensionSecretsError)
    return error as ExtensionSecretsError
  }
  throw new Error('expected the invocation to fail')
}

/** A handler that reads `/app/api-url` as `context.url` and returns it. */
export const urlHandler = (port: number, options: Partial<ExtensionSecretsOptions> = {}) =>
  middy()
    .use(
      extensionSecrets({ fetchData: { url: parameter('/app/api-url') }, port, token: testToken, ...options }),
    )
    .handler(async (_event, context) => context.url)

/**
 * The two clocks the middleware reads, moved by hand: `passes(ms)` moves the wall clock (`Date.now`) and
 * the monotonic clock (`performance.now`) together, as time passing does; `stepWall(ms)` moves only the
 * wall clock, as an NTP step or an operator changing the time does. With `frozen`, neither clock moves on
 * its own, so ages and expiries are exact whatever the machine's load (timers stay real: deadlines still
 * end waits). Restored after each test.
 */
export const useClocks = ({ frozen = false }: { frozen?: boolean } = {}) => {
  const offsets = { wall: 0, monotonic: 0 }
  let restore: (() => void) | undefined
  beforeEach(() => {
    offsets.wall = 0
    offsets.monotonic = 0
    const realDateNow = Date.now
    const realPerformanceNow = performance.now.bind(performance)
    const wallAtStart = realDateNow()
    const monotonicAtStart = realPerformanceNow()
    const dateNow = vi
      .spyOn(Date, 'now')
      .mockImplementation(() => (frozen ? wallAtStart : realDateNow()) + offsets.wall)
    const performanceNow = vi
      .spyOn(performance, 'now')
      .mockImplementation(() => (frozen ? monotonicAtStart : realPerformanceNow()) + offsets.monotonic)
    restore = () => {
      dateNow.mockRestore()
      performanceNow.mockRestore()
    }
  })
  afterEach(() => {
    restore?.()
    restore = undefined
  })
  return {
    passes(ms: number) {
      offsets.wall += ms
      offsets.monotonic += ms
    },
    stepWall(ms: number) {
      offsets.wall += ms
    },
  }
}
