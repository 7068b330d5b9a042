import middy, { type MiddlewareObj } from '@middy/core'
import { clearCache } from '@middy/util'
import fc from 'fast-check'
import { afterAll, afterEach, beforeAll, describe, expect, test } from 'vitest'
import type { Emulator } from '../src/emulator/index.js'
import type { Source } from '../src/extension.js'
import {
  ExtensionSecretsError,
  type ExtensionSecretsErrorCode,
  extensionSecrets,
  type FetchEntry,
  type StandardSchemaV1,
} from '../src/index.js'
import type { RetryOptions } from '../src/options.js'
import { extensionClient } from './extension-client.js'
import { emulatorWith, fixtureValues, lambdaContext, testToken } from './helpers.js'
import { propertyRuns } from './property-runs.js'
import { capturingLogs, expectNothingLeaked } from './secrecy-scan.js'

// Generated input from every side a function cannot control: names, configurations, the extension's
// answers, secret values and tokens. The outcome is always the right value or a classified error, and
// never carries a secret or the token.

let emulator: Emulator
beforeAll(async () => {
  emulator = await emulatorWith({ cacheEnabled: false })
})
afterAll(async () => {
  await emulator.close()
})
afterEach(() => {
  emulator.setFaults([])
  emulator.setValues(fixtureValues as never)
  clearCache()
})

const clientWith = (retry: Partial<RetryOptions> = {}, token = testToken) =>
  extensionClient({ port: emulator.port, token, retry })

const outcomeOf = (promise: Promise<unknown>) =>
  promise.then(
    (value) => ({ value }),
    (error: unknown) => ({ error }),
  )

/** Unique per generated case, 12+ characters: finding it in output is never a coincidence. */
let markerCount = 0
const nextMarker = () => `LEAKMARK${(++markerCount).toString(36).padStart(6, '0')}X`

describe('names', () => {
  const anyName = fc
    .string({ unit: 'binary', minLength: 1, maxLength: 20 })
    .filter((name) => name.isWellFormed() && name.trim() !== '' && !name.startsWith('/aws/reference/'))

  test('any well-formed Unicode name reaches the extension exactly and reads its own value', async () => {
    await fc.assert(
      fc.asyncProperty(anyName, anyName, async (parameterName, secretName) => {
        emulator.setValues({
          parameters: { [parameterName]: `p:${parameterName}` },
          secrets: { [secretName]: `s:${secretName}` },
        })
        const handler = middy()
          .use(
            extensionSecrets({
              fetchData: {
                p: { parameter: parameterName, parse: 'text' },
                s: { secret: secretName, parse: 'text' },
              },
              port: emulator.port,
              token: testToken,
            }),
          )
          .handler(async (_event, context) => [context.p, context.s])
        expect(await handler({}, lambdaContext())).toEqual([`p:${parameterName}`, `s:${secretName}`])
      }),
      { numRuns: propertyRuns['names of any well-formed Unicode round-trip through a middy() chain'] },
    )
  })
})

describe('fetchData', () => {
  const parameterNames = [
    '/app/api-url',
    '/app/hosts',
    '/app/signing-key',
    '/app/flags',
    '/app/json-looking',
    '/app/none',
  ]
  const secretNames = ['prod/db', 'prod/api-key', 'prod/cert', 'prod/plain', 'prod/none']
  const parse = fc.constantFrom(undefined, 'auto', 'text', 'json', 'list', 'binary', 'yaml')
  const field = fc.constantFrom(
    undefined,
    'username',
    'password',
    'beta',
    'a.b',
    '',
    'constructor',
    '__proto__',
  )
  const parameterEntry = fc.record(
    {
      parameter: fc.constantFrom(...parameterNames),
      parse,
      field,
      version: fc.integer({ min: -1, max: 4 }),
      label: fc.constantFrom('Prod', 'Nope', ''),
      decrypt: fc.boolean(),
    },
    { requiredKeys: ['parameter'] },
  )
  const secretEntry = fc.record(
    {
      secret: fc.constantFrom(...secretNames),
      parse,
      field,
      versionStage: fc.constantFrom('AWSCURRENT', 'AWSPREVIOUS', 'AWSPENDING', 'NOPE'),
      versionId: fc.string({ maxLength: 8 }),
    },
    { requiredKeys: ['secret'] },
  )
  const wild = fc.dictionary(
    fc.constantFrom('a', 'b', 'db', 'url', 'toString', 'hasOwnProperty', '__proto__', 'awsRequestId'),
    fc.oneof(parameterEntry, secretEntry),
    { minKeys: 1, maxKeys: 3 },
  )
  // Mostly valid configurations, so that many are fetched and their values checked.
  const sane = fc.dictionary(
    fc.constantFrom('a', 'b', 'db', 'url'),
    fc.oneof(
      fc.record({
        parameter: fc.constantFrom(...parameterNames),
        parse: fc.constantFrom('auto', 'text', 'json', 'list'),
      }),
      fc.record({ secret: fc.constantFrom(...secretNames), parse: fc.constantFrom('auto', 'text', 'json') }),
      fc.record({
        secret: fc.constant('prod/db'),
        field: fc.constantFrom('username', 'password', 'missing'),
      }),
    ),
    { minKeys: 1, maxKeys: 3 },
  )
  const fetchData = fc.oneof(wild, sane)

  /** What the fixture holds under a name, as text, when no selector changes it. */
  const plainText = (entry: Record<string, unknown>): string | undefined => {
    if ('parameter' in entry) {
      if (entry.version !== undefined || entry.label !== undefined || entry.decrypt === false)
        return undefined
      const value = (fixtureValues.parameters as Record<string, unknown>)[entry.parameter as string]
      if (typeof value === 'string') return value
      if (value && typeof value === 'object' && 'value' in value) {
        const inner = (value as { value: unknown }).value
        return Array.isArray(inner) ? inner.join(',') : (inner as string)
      }
      if (value && typeof value === 'object' && 'versions' in value)
        return (value as { versions: string[] }).versions.at(-1)
      return undefined
    }
    if (entry.versionStage !== undefined || entry.versionId !== undefined) return undefined
    const value = (fixtureValues.secrets as Record<string, unknown>)[entry.secret as string]
    if (typeof value === 'string') return value
    if (value && typeof value === 'object' && 'json' in value)
      return JSON.stringify((value as { json: unknown }).json)
    return undefined
  }

  const prototypeKeys = Object.getOwnPropertyNames(Object.prototype)
  const fetchCodes: ReadonlySet<ExtensionSecretsErrorCode> = new Set([
    'UPSTREAM_ERROR',
    'PARSE_ERROR',
    'VALIDATION_ERROR',
  ])

  test('accepted configurations are fetched correctly; the rest fail at creation with a TypeError', async () => {
    const seen = { rejected: 0, failed: 0, compared: 0 }
    await fc.assert(
      fc.asyncProperty(fetchData, async (data) => {
        let middleware: MiddlewareObj<any, any, Error, any, any>
        try {
          middleware = extensionSecrets({
            fetchData: data as Record<string, FetchEntry>,
            port: emulator.port,
            token: testToken,
          })
        } catch (error) {
          expect(error).toBeInstanceOf(TypeError)
          seen.rejected++
          return
        }
        const handler = middy()
          .use(middleware)
          .handler(async (_event, context) => context)
        const outcome = await outcomeOf(handler({}, lambdaContext()))
        if ('error' in outcome) {
          expect(outcome.error).toBeInstanceOf(ExtensionSecretsError)
          const error = outcome.error as ExtensionSecretsError
          expect(error.code).toBe('FETCH_FAILED')
          for (const item of error.errors ?? []) expect(fetchCodes).toContain(item.code)
          seen.failed++
          return
        }
        const context = outcome.value as Record<string, unknown>
        for (const [key, entry] of Object.entries(data)) {
          const text = plainText(entry)
          if (text === undefined || entry.field !== undefined) continue
          if (entry.parse === 'text') expect(context[key]).toBe(text)
          if (entry.parse === 'list') expect(context[key]).toEqual(text.split(','))
          if (entry.parse === 'json') expect(context[key]).toEqual(JSON.parse(text))
          if (entry.parse === 'text' || entry.parse === 'list' || entry.parse === 'json') seen.compared++
        }
        // Keys such as __proto__ are refused at creation; nothing reaches a prototype.
        expect(Object.getOwnPropertyNames(Object.prototype)).toEqual(prototypeKeys)
      }),
      {
        numRuns: propertyRuns['random fetchData: accepted and fetched correctly, or a TypeError at creation'],
      },
    )
    // Every branch was taken: the generator is not all rejections.
    expect(seen.rejected).toBeGreaterThan(0)
    expect(seen.failed).toBeGreaterThan(0)
    expect(seen.compared).toBeGreaterThan(10)
  })
})

describe("the extension's answers", () => {
  const secretRef: Source = { service: 'secret', name: 'prod/plain' }
  const parameterRef: Source = { service: 'parameter', name: '/app/signing-key', decrypt: true }
  const base64Pattern = /^[A-Za-z0-9+/]*={0,2}$/
  const isRecord = (value: unknown): value is Record<string, unknown> =>
    typeof value === 'object' && value !== null && !Array.isArray(value)
  const parsedOrUndefined = (body: string) => {
    try {
      return JSON.parse(body) as unknown
    } catch {
      return undefined
    }
  }

  /** A body that is often nearly right: the right keys with wrong types, cut short, or noise. */
  const bodyOf = (shape: fc.Arbitrary<unknown>) =>
    fc.oneof(
      shape.map((value) => JSON.stringify(value)),
      fc.tuple(shape, fc.nat()).map(([value, cut]) => {
        const text = JSON.stringify(value) ?? ''
        return text.slice(0, cut % (text.length + 1))
      }),
      fc.json(),
      fc.string(),
    )
  const withMarker = fc.string({ maxLength: 8 }).map((text) => `${text}${nextMarker()}`)
  const secretShape = fc.record(
    {
      Name: fc.string(),
      SecretString: fc.oneof(withMarker, fc.constant(null), fc.integer(), fc.array(withMarker)),
      SecretBinary: fc.oneof(
        fc.uint8Array().map((bytes) => Buffer.from(bytes).toString('base64')),
        withMarker,
        fc.constant(null),
      ),
      VersionId: fc.string(),
    },
    { requiredKeys: [] },
  )
  const parameterShape = fc.oneof(
    fc.record(
      {
        Parameter: fc.record(
          {
            Name: fc.string(),
            Type: fc.constantFrom('String', 'StringList', 'SecureString', 'Other', 3),
            Value: fc.oneof(withMarker, fc.constant(null), fc.integer()),
          },
          { requiredKeys: [] },
        ),
        ResultMetadata: fc.constant({}),
      },
      { requiredKeys: [] },
    ),
    fc.array(withMarker),
    fc.constant(null),
  )

  const expectMalformed = async (outcome: { value?: unknown; error?: unknown }) => {
    expect(outcome).toHaveProperty('error')
    expect((outcome.error as ExtensionSecretsError).code).toBe('MALFORMED_RESPONSE')
    expect(await capturingText(outcome.error)).not.toMatch(/LEAKMARK/)
  }
  const capturingText = async (error: unknown) => {
    const { allText } = await import('./helpers.js')
    return allText(error)
  }

  test('a 200 body for a secret gives the value it holds, or MALFORMED_RESPONSE without quoting it', async () => {
    const client = clientWith()
    const seen = { text: 0, binary: 0, malformed: 0 }
    await fc.assert(
      fc.asyncProperty(bodyOf(secretShape), async (body) => {
        emulator.setFaults([{ action: 'respond', status: 200, body }])
        const outcome = await outcomeOf(client.get(secretRef))
        const output = parsedOrUndefined(body)
        if (isRecord(output) && typeof output.SecretString === 'string') {
          expect(outcome).toEqual({
            value: expect.objectContaining({ value: { text: output.SecretString, sensitive: true } }),
          })
          seen.text++
        } else if (
          isRecord(output) &&
          typeof output.SecretBinary === 'string' &&
          output.SecretBinary.length % 4 === 0 &&
          base64Pattern.test(output.SecretBinary)
        ) {
          const bytes = new Uint8Array(Buffer.from(output.SecretBinary, 'base64'))
          expect(outcome).toEqual({
            value: expect.objectContaining({ value: { bytes, sensitive: true } }),
          })
          seen.binary++
        } else {
          await expectMalformed(outcome)
          seen.malformed++
        }
      }),
      { numRuns: propertyRuns['random 200 bodies of a secret: the value or MALFORMED_RESPONSE'] },
    )
    expect(seen.text).toBeGreaterThan(0)
    expect(seen.binary).toBeGreaterThan(0)
    expect(seen.malformed).toBeGreaterThan(0)
  })

  test('a 200 body for a parameter gives its value and sensitivity, or MALFORMED_RESPONSE', async () => {
    const client = clientWith()
    await fc.assert(
      fc.asyncProperty(bodyOf(parameterShape), async (body) => {
        emulator.setFaults([{ action: 'respond', status: 200, body }])
        const outcome = await outcomeOf(client.get(parameterRef))
        const output = parsedOrUndefined(body)
        const parameter = isRecord(output) && isRecord(output.Parameter) ? output.Parameter : undefined
        if (parameter !== undefined && typeof parameter.Value === 'string') {
          const fetched = (outcome as { value: { value: { text: string; sensitive: boolean } } }).value
          expect(fetched.value.text).toBe(parameter.Value)
          // Only a parameter known to be plain text is shown in logs; anything else is treated as secret.
          expect(fetched.value.sensitive).toBe(parameter.Type !== 'String' && parameter.Type !== 'StringList')
        } else {
          await expectMalformed(outcome)
        }
      }),
      {
        numRuns:
          propertyRuns['random 200 bodies of a parameter: the value, its sensitivity, or MALFORMED_RESPONSE'],
      },
    )
  })

  test('any other status gives the documented code, retried only when the state may pass', async () => {
    // A final answer needs no budget, so it gets a long one that a slow, loaded machine cannot exhaust;
    // a state that may pass is retried until a short budget ends.
    const finalClient = clientWith({ maxRetryTime: 10_000 })
    const retryingClient = clientWith({ maxRetryTime: 100 })
    const body = fc.oneof(
      fc.string({ maxLength: 40 }),
      fc.constantFrom('not ready to serve traffic, please wait', 'Bad Token'),
    )
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 201, max: 599 }), body, async (status, text) => {
        emulator.setFaults([{ action: 'respond', status, body: text }])
        const retryable = status === 429 || status >= 500 || (status === 400 && /not ready/i.test(text))
        const client = retryable ? retryingClient : finalClient
        const outcome = await outcomeOf(client.get(secretRef))
        const error = (outcome as { error: ExtensionSecretsError }).error
        expect(error).toBeInstanceOf(ExtensionSecretsError)
        const code: ExtensionSecretsErrorCode =
          status < 400
            ? 'MALFORMED_RESPONSE'
            : status === 400 && /not ready/i.test(text)
              ? 'EXTENSION_NOT_READY'
              : status === 401 || status === 403
                ? 'TOKEN_REJECTED'
                : 'UPSTREAM_ERROR'
        // A retried state that outlasts the budget may end on an attempt the budget cut: TIMEOUT.
        if (retryable && error.code === 'TIMEOUT') return
        expect(error.code).toBe(code)
        if (!retryable) expect(error.attempts).toBe(1)
        if (error.code !== 'MALFORMED_RESPONSE') expect(error.status).toBe(status)
        if (status < 300) expect(error.body).toBeUndefined()
      }),
      { numRuns: propertyRuns['random statuses and bodies: the documented code'] },
    )
  })
})

describe('secrecy', () => {
  /** A schema that rejects and quotes what it was given, keys included, as careless validators do. */
  const quotingSchema: StandardSchemaV1<unknown, never> = {
    '~standard': {
      version: 1,
      vendor: 'test',
      validate: (value) => ({
        issues: [
          {
            message: `expected a number, received ${JSON.stringify(value)}`,
            path: Object.keys(Object(value)),
          },
          { message: `got ${String(value)}` },
        ],
      }),
    },
  }
  const recipe = fc.record(
    {
      parse: fc.constantFrom('auto', 'text', 'json', 'binary', 'list'),
      field: fc.constantFrom('k', 'missing', 'k.deeper', 'arr.0'),
      schema: fc.constant(quotingSchema),
    },
    { requiredKeys: [] },
  )

  test('secret values never appear in errors, the context, or the logs', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.string({ maxLength: 6 }),
        fc.string({ maxLength: 6 }),
        fc.boolean(),
        recipe,
        fc.constantFrom('secret', 'secure-parameter'),
        async (before, after, asJson, options, where) => {
          const marker = nextMarker()
          const value = `${before}${marker}${after}`
          const text = asJson ? JSON.stringify({ k: value, [`key-${marker}`]: value, arr: [value] }) : value
          emulator.setValues({
            parameters: { '/p': { type: 'SecureString', value: text } },
            secrets: { s: text },
          })
          const entry = where === 'secret' ? { secret: 's', ...options } : { parameter: '/p', ...options }
          let middleware: MiddlewareObj<any, any, Error, any, any>
          try {
            middleware = extensionSecrets({
              fetchData: { v: entry as never },
              port: emulator.port,
              token: testToken,
            })
          } catch (error) {
            expect(error).toBeInstanceOf(TypeError)
            return
          }
          const context = lambdaContext()
          const handler = middy()
            .use(middleware)
            .handler(async (_event, handlerContext) => {
              console.log('context:', handlerContext)
              return 'done'
            })
          const { result, logs } = await capturingLogs(() => outcomeOf(handler({}, context)))
          await expectNothingLeaked(
            { context, logs, ...('error' in result ? { error: result.error } : {}) },
            [marker],
            [testToken],
          )
        },
      ),
      { numRuns: propertyRuns['secret values with a marker never leave through errors, context or logs'] },
    )
  })

  test('a token, sent or refused, never appears in an error', async () => {
    const printable = fc.integer({ min: 0x21, max: 0x7e }).map((code) => String.fromCharCode(code))
    await fc.assert(
      fc.asyncProperty(
        fc.string({ unit: printable, maxLength: 12 }),
        fc.constantFrom('', '\n', '\r\nX-Injected: 1', '\u0000', '\u2028'),
        async (prefix, tail) => {
          const marker = nextMarker()
          const token = `${prefix}${marker}${tail}`
          let middleware: MiddlewareObj<any, any, Error, any, any>
          try {
            middleware = extensionSecrets({
              fetchData: { v: { secret: 'prod/plain' } },
              port: emulator.port,
              token,
            })
          } catch (error) {
            // A token that cannot be a header value is refused at creation, without being echoed.
            expect(tail).not.toBe('')
            expect(error).toBeInstanceOf(TypeError)
            expect(String(error)).not.toContain(marker)
            return
          }
          expect(tail).toBe('')
          const handler = middy()
            .use(middleware)
            .handler(async () => 'ok')
          const requestsBefore = emulator.requests.length
          const outcome = await outcomeOf(handler({}, lambdaContext()))
          // The emulator wants testToken: this one is refused.
          const error = (outcome as { error: ExtensionSecretsError }).error
          expect(error.errors?.[0]?.code).toBe('TOKEN_REJECTED')
          expect(emulator.requests.length).toBe(requestsBefore + 1)
          await expectNothingLeaked({ error, logs: [], requests: emulator.requests }, [], [marker])
        },
      ),
      { numRuns: propertyRuns['tokens never appear in errors'] },
    )
  })
})
