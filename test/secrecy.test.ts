import middy from '@middy/core'
import { describe, expect, test } from 'vitest'
import type { FaultRule } from '../src/emulator/index.js'
import {
  type ExtensionSecretsError,
  type ExtensionSecretsOptions,
  extensionSecrets,
  type FetchEntry,
  parameter,
  type StandardSchemaV1,
  secret,
} from '../src/index.js'
import { allText, failureOf, lambdaContext, secretMarker, testToken, useEmulator } from './helpers.js'

// Every error path is driven with values that carry a marker; no message, property or inspection of the
// error may contain the marker or the token.

const start = useEmulator()

/** Runs a handler reading `fetchData` against an emulator with `faults`, and returns its error. */
const failing = async (
  fetchData: Record<string, FetchEntry>,
  faults: FaultRule[] = [],
  extra: Partial<ExtensionSecretsOptions> = {},
) => {
  const emulator = await start({ faults })
  const handler = middy()
    .use(
      extensionSecrets({
        fetchData,
        port: emulator.port,
        token: testToken,
        // Final answers end at once; a short budget would turn a slow round trip on a loaded machine
        // into TIMEOUT. The cases that must exhaust it pass a short one.
        retry: { maxRetryTime: 5_000 },
        ...extra,
      }),
    )
    .handler(async () => 'ok')
  return failureOf(() => handler({}, lambdaContext()))
}

/** A schema that rejects and quotes its input in the message, as several validators do. */
const quotingSchema: StandardSchemaV1<unknown, never> = {
  '~standard': {
    version: 1,
    vendor: 'test',
    validate: (value) => ({
      issues: [{ message: `expected a number, received ${JSON.stringify(value)}`, path: ['password'] }],
    }),
  },
}

const expectClean = async (error: ExtensionSecretsError) => {
  const text = await allText(error)
  expect(text).not.toContain(secretMarker)
  expect(text).not.toContain(testToken)
  for (const inner of error.errors ?? []) {
    const innerText = await allText(inner)
    expect(innerText).not.toContain(secretMarker)
    expect(innerText).not.toContain(testToken)
    if (inner.cause !== undefined) expect(await allText(inner.cause)).not.toContain(secretMarker)
  }
}

describe('no error ever contains a secret value or the token', () => {
  test('parse json of a non-JSON secret (JSON.parse would quote it)', async () => {
    const error = await failing({ plain: secret('prod/plain', { parse: 'json' }) })
    expect(error.errors?.[0]?.code).toBe('PARSE_ERROR')
    await expectClean(error)
  })

  test('a missing field of a JSON secret', async () => {
    const error = await failing({ password: secret('prod/db', { field: 'db.password' }) })
    expect(error.errors?.[0]?.code).toBe('PARSE_ERROR')
    expect(error.errors?.[0]?.message).toContain("'db.password'")
    await expectClean(error)
  })

  test('a schema whose messages quote the value: withheld whole, only their number given', async () => {
    const error = await failing({ db: secret('prod/db', { schema: quotingSchema }) })
    expect(error.errors?.[0]?.code).toBe('VALIDATION_ERROR')
    expect(error.errors?.[0]?.reason).toBe(
      'db (secret "prod/db"): the schema rejected the value (1 issue; messages withheld: the value is secret)',
    )
    await expectClean(error)
  })

  test('a schema that prints the value JSON-escaped, or names the keys of a map of secrets', async () => {
    const escapingSchema: StandardSchemaV1<unknown, never> = {
      '~standard': {
        version: 1,
        vendor: 'test',
        validate: (value) => {
          const entries = Object.entries(value as Record<string, unknown>)
          return {
            issues: entries.map(([key, item]) => ({
              message: `must be a number (was ${JSON.stringify(item)})`,
              path: [key],
            })),
          }
        },
      },
    }
    const emulator = await start({
      values: {
        secrets: {
          keys: { json: { [`tenant-${secretMarker}`]: `a"b\\c-${secretMarker}`, [`b-${secretMarker}`]: 1 } },
        },
      },
    })
    const handler = middy()
      .use(
        extensionSecrets({
          fetchData: { keys: secret('keys', { schema: escapingSchema }) },
          port: emulator.port,
          token: testToken,
        }),
      )
      .handler(async () => 'ok')
    const error = await failureOf(() => handler({}, lambdaContext()))
    expect(error.errors?.[0]?.code).toBe('VALIDATION_ERROR')
    expect(error.errors?.[0]?.message).toContain('(2 issues; messages withheld: the value is secret)')
    await expectClean(error)
  })

  test('a value too short to redact leaks nothing either: the rule does not depend on its length', async () => {
    const emulator = await start({ values: { secrets: { pin: { json: { pin: '42' } } } } })
    const handler = middy()
      .use(
        extensionSecrets({
          fetchData: { pin: secret('pin', { schema: quotingSchema }) },
          port: emulator.port,
          token: testToken,
        }),
      )
      .handler(async () => 'ok')
    const error = await failureOf(() => handler({}, lambdaContext()))
    expect(error.errors?.[0]?.message).toContain('messages withheld: the value is secret')
    expect(error.errors?.[0]?.message).not.toContain('42')
    expect(error.errors?.[0]?.message).not.toContain('password')
  })

  test('a binary secret read as text', async () => {
    const error = await failing({ cert: secret('prod/cert', { parse: 'text' }) })
    expect(error.errors?.[0]?.code).toBe('PARSE_ERROR')
    await expectClean(error)
  })

  test('token rejected, not ready, unreachable, upstream error', async () => {
    await expectClean(await failing({ a: secret('prod/plain') }, [], { token: 'wrong-token' }))
    const short = { retry: { maxRetryTime: 100 } }
    await expectClean(await failing({ a: secret('prod/plain') }, [{ action: 'not-ready' }], short))
    await expectClean(await failing({ a: secret('prod/plain') }, [{ action: 'reset' }], short))
    await expectClean(await failing({ a: secret('prod/none') }))
  })

  test('a token option that cannot be sent is rejected at creation without echoing it', () => {
    let thrown: unknown
    try {
      extensionSecrets({ fetchData: { a: secret('prod/plain') }, token: `${secretMarker}\n` })
    } catch (error) {
      thrown = error
    }
    expect(thrown).toBeInstanceOf(TypeError)
    expect(String(thrown)).not.toContain(secretMarker)
  })
})

test('the requests the emulator records hold neither the token nor values', async () => {
  const emulator = await start()
  const handler = middy()
    .use(
      extensionSecrets({
        fetchData: { db: secret('prod/db'), key: parameter('/app/signing-key') },
        port: emulator.port,
        token: testToken,
      }),
    )
    .handler(async () => 'ok')
  await handler({}, lambdaContext())
  const text = await allText(emulator.requests)
  expect(text).not.toContain(testToken)
  expect(text).not.toContain(secretMarker)
})
