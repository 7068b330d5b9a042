import { createServer, type Server, type Socket } from 'node:net'
import { afterEach, describe, expect, test } from 'vitest'
import type { Emulator, FaultRule } from '../src/emulator/index.js'
import { ExtensionSecretsError } from '../src/errors.js'
import type { Source } from '../src/extension.js'
import type { RetryOptions } from '../src/options.js'
import { extensionClient } from './extension-client.js'
import { emulatorWith, secretMarker } from './helpers.js'

// The protocol alone, without Middy: one request per value, readiness retries, answer classification.

let emulator: Emulator | undefined
const servers: Server[] = []
afterEach(async () => {
  await emulator?.close()
  emulator = undefined
  await Promise.all(servers.splice(0).map((server) => new Promise((resolve) => server.close(resolve))))
})

const clientFor = async (faults: FaultRule[] = [], retry: Partial<RetryOptions> = {}) => {
  emulator = await emulatorWith({ faults })
  return extensionClient({ port: emulator.port, retry: { maxRetryTime: 300, ...retry } })
}

const plain: Source = { service: 'secret', name: 'prod/plain' }
const url: Source = { service: 'parameter', name: '/app/api-url', decrypt: true }

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
    expect(fetched.value).toEqual({ text: `${secretMarker}-plain`, sensitive: true })
    expect(fetched.attempts).toBe(2)
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
    const error = await rejection(client.get(plain, AbortSignal.abort(new Error('deadline'))))
    expect(error).toMatchObject({ code: 'TIMEOUT', attempts: 0 })
    expect(emulator?.requests).toHaveLength(0)
  })

  test("the backoff is p-retry's: it grows by factor up to maxTimeout, and stops at maxRetryTime", async () => {
    // A listener that resets every connection: each attempt is seen arriving, unlike a refused one.
    const arrivals: number[] = []
    const server = createServer((socket: Socket) => {
      arrivals.push(performance.now())
      socket.resetAndDestroy()
    })
    servers.push(server)
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    const port = (server.address() as { port: number }).port
    const client = extensionClient({
      port,
      retry: { maxRetryTime: 600, minTimeout: 20, maxTimeout: 80, factor: 2, randomize: false },
    })
    const error = await rejection(client.get(plain))
    expect(error.code).toBe('EXTENSION_UNREACHABLE')
    expect(error.message).toContain('last: connection reset')
    expect(error.attempts).toBe(arrivals.length)
    const gaps = arrivals.slice(1).map((at, index) => at - arrivals[index]!)
    // 20, 40, 80, then 80 each: timers never fire early, and late by far less than the next step.
    const expected = [20, 40, 80, 80, 80]
    expected.forEach((ms, index) => {
      expect(gaps[index]).toBeGreaterThanOrEqual(ms - 2)
    })
    expect(gaps[0]!).toBeLessThan(gaps[2]!)
    // About 600 ms / 80 ms: the budget ended the retries.
    expect(arrivals.length).toBeLessThan(12)
    expect(arrivals.at(-1)! - arrivals[0]!).toBeLessThan(600 + 80)
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
      'Parameter.Value that is not a string',
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
    const client = await clientFor([{ action: 'respond', status: 200, body: 'x'.repeat((1 << 20) + 10) }], {
      maxRetryTime: 5_000,
    })
    const error = await rejection(client.get(plain))
    expect(error.code).toBe('MALFORMED_RESPONSE')
    expect(error.message).toContain('the answer is over 1048576 bytes')
    expect(error.attempts).toBe(1)
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
    expect(fetched.value.text).toBeDefined()
    expect(fetched.value.text).not.toContain(secretMarker)
    expect(fetched.value).toMatchObject({ type: 'SecureString', sensitive: true })
  })

  test('a binary secret through /aws/reference/secretsmanager/ arrives as bytes', async () => {
    const client = await clientFor()
    const fetched = await client.get({
      service: 'parameter',
      name: '/aws/reference/secretsmanager/prod/cert',
      decrypt: true,
    })
    expect(fetched.value.text).toBeUndefined()
    expect([...(fetched.value.bytes ?? [])]).toEqual([0, 1, 2, 3, 254, 255])
    expect(fetched.value.sensitive).toBe(true)
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
