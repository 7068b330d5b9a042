import { afterEach, describe, expect, test, vi } from 'vitest'
import { createExtensionClient, maxBodyBytes } from '../src/client/extension-client.js'
import { defaultRetry, RetryableAttempt, retryUntil } from '../src/client/retry-policy.js'
import type { SourceRef } from '../src/client/source-ref.js'
import type { Emulator, FaultRule } from '../src/emulator/index.js'
import { ExtensionSecretsError } from '../src/errors.js'
import { emulatorWith, secretMarker, testToken } from './helpers.js'

// The client alone, without Middy: one request per value, readiness retries, answer classification.

let emulator: Emulator | undefined
afterEach(async () => {
  vi.useRealTimers()
  await emulator?.close()
  emulator = undefined
})

const clientFor = async (faults: FaultRule[] = [], retry = {}) => {
  emulator = await emulatorWith({ faults })
  return createExtensionClient({
    host: '127.0.0.1',
    port: emulator.port,
    token: testToken,
    requestTimeout: 1_000,
    retry: { ...defaultRetry, maxRetryTime: 300, ...retry },
  })
}

const plain: SourceRef = { service: 'secret', name: 'prod/plain' }
const url: SourceRef = { service: 'parameter', name: '/app/api-url', decrypt: true }

const rejection = async (promise: Promise<unknown>): Promise<ExtensionSecretsError> => {
  const error = await promise.then(
    () => {
      throw new Error('expected a rejection')
    },
    (reason: unknown) => reason,
  )
  expect(error).toBeInstanceOf(ExtensionSecretsError)
  return error as ExtensionSecretsError
}

describe('readiness', () => {
  test('a connection reset on the first request is retried at once', async () => {
    const client = await clientFor([{ action: 'reset', times: 1 }])
    const fetched = await client.get(plain)
    expect(fetched.value).toMatchObject({ kind: 'text', text: `${secretMarker}-plain` })
    expect(fetched.attempts).toBe(2)
  })

  test('an attempt squeezed into the end of the budget does not hide the answers before it', async () => {
    const client = await clientFor([{ action: 'not-ready', forMs: 180 }, { action: 'hang' }], {
      maxRetryTime: 200,
      randomize: false,
    })
    const error = await rejection(client.get(plain))
    expect(error).toMatchObject({ code: 'EXTENSION_NOT_READY', status: 400 })
    expect(error.attempts).toBeGreaterThan(2)
  })

  test('an extension that starts listening and then hangs is TIMEOUT, not unreachable', async () => {
    const client = await clientFor([{ action: 'refuse', forMs: 150 }, { action: 'hang' }], {
      maxRetryTime: 800,
    })
    const error = await rejection(client.get(plain))
    expect(error.code).toBe('TIMEOUT')
  })

  test('an extension that only hangs is TIMEOUT', async () => {
    const client = await clientFor([{ action: 'hang' }], { maxRetryTime: 150 })
    expect(await rejection(client.get(plain))).toMatchObject({ code: 'TIMEOUT' })
  })

  test('a deadline already passed sends nothing and reports TIMEOUT', async () => {
    const client = await clientFor()
    const error = await rejection(client.get(plain, { deadline: performance.now() - 1 }))
    expect(error).toMatchObject({ code: 'TIMEOUT', attempts: 0 })
    expect(emulator?.requests).toHaveLength(0)
  })

  test('the backoff grows by factor up to maxTimeout, and stops at maxRetryTime', async () => {
    vi.useFakeTimers()
    const times: number[] = []
    const start = performance.now()
    const run = retryUntil(
      async () => {
        times.push(Math.round(performance.now() - start))
        throw new RetryableAttempt('refused')
      },
      start + 10_000,
      { maxRetryTime: 10_000, minTimeout: 100, maxTimeout: 1_000, factor: 2, randomize: false },
    )
    const settled = run.catch((error: unknown) => error)
    await vi.runAllTimersAsync()
    expect(await settled).toBeInstanceOf(RetryableAttempt)
    expect(times.slice(0, 7)).toEqual([0, 0, 100, 300, 700, 1500, 2500])
    expect(times.at(-1)).toBeLessThanOrEqual(10_000)
    expect(times.at(-1)).toBeGreaterThan(9_000)
  })
})

describe('answers the client refuses to read as values', () => {
  test.each<[string, FaultRule, string]>([
    [
      'a 200 that is not JSON',
      { action: 'respond', status: 200, body: `${secretMarker} not json` },
      'is not JSON',
    ],
    [
      'a 200 without Parameter',
      { action: 'respond', status: 200, body: '{"ResultMetadata":{}}' },
      'no Parameter object',
    ],
    [
      'a 200 whose Value is null',
      { action: 'respond', status: 200, body: '{"Parameter":{"Type":"String","Value":null}}' },
      'Value is not a string',
    ],
  ])('%s is MALFORMED_RESPONSE, without quoting the body', async (_name, fault, reason) => {
    const client = await clientFor([fault])
    const error = await rejection(client.get(url))
    expect(error.code).toBe('MALFORMED_RESPONSE')
    expect(error.message).toContain(reason)
    expect(error.message).not.toContain(secretMarker)
    expect(error.body).toBeUndefined()
  })

  test('a secret with neither SecretString nor SecretBinary is MALFORMED_RESPONSE', async () => {
    const client = await clientFor([
      { action: 'respond', status: 200, body: '{"SecretString":null,"SecretBinary":null}' },
    ])
    expect((await rejection(client.get(plain))).message).toContain('neither SecretString nor SecretBinary')
  })

  test('a body over 1 MiB is cut off and reported, not read whole', async () => {
    // A budget that a busy machine cannot exhaust while the megabyte is sent: this test is not about time.
    const client = await clientFor(
      [{ action: 'respond', status: 200, body: 'x'.repeat(maxBodyBytes + 10) }],
      {
        maxRetryTime: 5_000,
      },
    )
    const error = await rejection(client.get(plain))
    expect(error.code).toBe('MALFORMED_RESPONSE')
    expect(error.message).toContain('larger than')
  })

  test('a redirect is never followed', async () => {
    const client = await clientFor([{ action: 'respond', status: 302, body: '' }])
    const error = await rejection(client.get(plain))
    expect(error).toMatchObject({ code: 'MALFORMED_RESPONSE', status: 302, attempts: 1 })
  })

  test('an unexpected 2xx is MALFORMED_RESPONSE and its body, which may be the value, is not kept', async () => {
    const client = await clientFor([
      { action: 'respond', status: 203, body: `{"SecretString":"${secretMarker}"}` },
    ])
    const error = await rejection(client.get(plain))
    expect(error).toMatchObject({ code: 'MALFORMED_RESPONSE', status: 203 })
    expect(error.body).toBeUndefined()
  })

  test('404 and the generic 400 are UPSTREAM_ERROR at the first attempt', async () => {
    const client = await clientFor([{ action: 'respond', status: 404, body: 'Not found' }])
    expect(await rejection(client.get(plain))).toMatchObject({
      code: 'UPSTREAM_ERROR',
      status: 404,
      attempts: 1,
      body: 'Not found',
    })
  })
})

describe('what the extension serves', () => {
  test('a SecureString without decryption is the ciphertext, still marked sensitive', async () => {
    const client = await clientFor()
    const fetched = await client.get({ service: 'parameter', name: '/app/signing-key', decrypt: false })
    expect(fetched.value.kind).toBe('text')
    if (fetched.value.kind === 'text') {
      expect(fetched.value.text).not.toContain(secretMarker)
      expect(fetched.value.sensitive).toBe(true)
      expect(fetched.value.parameterType).toBe('SecureString')
    }
  })

  test('a binary secret through /aws/reference/secretsmanager/ arrives as bytes', async () => {
    const client = await clientFor()
    const fetched = await client.get({
      service: 'parameter',
      name: '/aws/reference/secretsmanager/prod/cert',
      decrypt: true,
    })
    expect(fetched.value.kind).toBe('binary')
    if (fetched.value.kind === 'binary') expect([...fetched.value.bytes]).toEqual([0, 1, 2, 3, 254, 255])
  })

  test('a String parameter is not sensitive; a secret is', async () => {
    const client = await clientFor()
    expect((await client.get(url)).value.sensitive).toBe(false)
    expect((await client.get(plain)).value.sensitive).toBe(true)
  })

  test('version, label and stage selectors reach the extension as query values', async () => {
    const client = await clientFor()
    await client.get({ service: 'parameter', name: '/app/flags', version: 2, decrypt: false })
    await client.get({ service: 'parameter', name: '/app/flags', label: 'Prod', decrypt: true })
    await client.get({ service: 'secret', name: 'prod/api-key', versionStage: 'AWSPREVIOUS' })
    expect(emulator?.requests.map((request) => request.query)).toEqual([
      { name: '/app/flags', version: '2' },
      { name: '/app/flags', label: 'Prod', withDecryption: 'true' },
      { secretId: 'prod/api-key', versionStage: 'AWSPREVIOUS' },
    ])
  })
})
