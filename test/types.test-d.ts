import middy from '@middy/core'
import type { Context } from 'aws-lambda'
import { describe, expectTypeOf, test } from 'vitest'
import {
  type ExtensionSecretsError,
  type ExtensionSecretsEvent,
  extensionSecrets,
  type FetchEntry,
  type JsonValue,
  parameter,
  type StandardSchemaV1,
  secret,
} from '../src/index.js'
import { refreshOn } from '../src/refresh-on.js'

type DbCredentials = { username: string; password: string }
type JsonObject = { [key: string]: JsonValue }
type JsonArray = JsonValue[]

// A minimal Standard Schema, as zod or valibot would provide.
declare const portSchema: StandardSchemaV1<unknown, number>
declare const dbSchema: StandardSchemaV1<unknown, DbCredentials>

describe('context types follow fetchData', () => {
  test('every helper form gets the type it guarantees', () => {
    const middleware = extensionSecrets({
      fetchData: {
        db: secret<DbCredentials>('prod/db'),
        dbPassword: secret('prod/db', { field: 'password' }),
        apiUrl: parameter('/app/api-url', { parse: 'text' }),
        hosts: parameter('/app/hosts', { parse: 'list' }),
        previous: secret('prod/api-key', { versionStage: 'AWSPREVIOUS' }),
        flags: parameter('/app/flags', { version: 3, parse: 'json' }),
        cert: secret('prod/cert', { parse: 'binary' }),
        port: parameter('/app/port', { schema: portSchema }),
        typedField: secret<string>('prod/db', { field: 'password' }),
        auto: parameter('/app/auto'),
      },
      cacheExpiry: 60_000,
    })
    middy()
      .use(middleware)
      .handler(async (_event, context) => {
        expectTypeOf(context.db).toEqualTypeOf<DbCredentials>()
        expectTypeOf(context.dbPassword).toEqualTypeOf<JsonValue>()
        expectTypeOf(context.apiUrl).toEqualTypeOf<string>()
        expectTypeOf(context.hosts).toEqualTypeOf<string[]>()
        expectTypeOf(context.previous).toEqualTypeOf<string | Uint8Array | JsonObject | JsonArray>()
        expectTypeOf(context.flags).toEqualTypeOf<JsonValue>()
        expectTypeOf(context.cert).toEqualTypeOf<Uint8Array>()
        expectTypeOf(context.port).toEqualTypeOf<number>()
        expectTypeOf(context.typedField).toEqualTypeOf<string>()
        expectTypeOf(context.auto).toEqualTypeOf<string | string[] | JsonObject | JsonArray>()
        expectTypeOf(context.awsRequestId).toEqualTypeOf<string>()
        // @ts-expect-error: not in fetchData
        context.missing
      })
  })

  test('plain objects are typed like helper results', () => {
    middy()
      .use(
        extensionSecrets({
          fetchData: {
            hosts: { parameter: '/app/hosts', parse: 'list' },
            text: { secret: 'prod/db', parse: 'text' },
            port: { parameter: '/app/port', schema: portSchema },
          },
        }),
      )
      .handler(async (_event, context) => {
        expectTypeOf(context.hosts).toEqualTypeOf<string[]>()
        expectTypeOf(context.text).toEqualTypeOf<string>()
        expectTypeOf(context.port).toEqualTypeOf<number>()
      })
  })

  test('fetchData loaded as data is unknown (any validator may apply), never any', () => {
    const fromJson: Record<string, FetchEntry> = {}
    middy()
      .use(extensionSecrets({ fetchData: fromJson }))
      .handler(async (_event, context) => {
        const value = context.anything
        expectTypeOf(value).not.toBeAny()
        expectTypeOf(value).toEqualTypeOf<unknown>()
      })
  })

  test('keys are absent from the context with setToContext: false, but present on request.internal', () => {
    const middleware = extensionSecrets({
      fetchData: { db: secret<DbCredentials>('prod/db') },
      setToContext: false,
    })
    expectTypeOf(middleware.before!)
      .parameter(0)
      .toHaveProperty('internal')
      .toEqualTypeOf<{ db: DbCredentials }>()
    middy()
      .use(middleware)
      .handler(async (_event, context) => {
        expectTypeOf(context).toEqualTypeOf<Context>()
        // @ts-expect-error: values stay in request.internal
        context.db
      })
  })

  test('a setToContext only known at run time makes the keys optional', () => {
    const setToContext = Math.random() > 0.5
    middy()
      .use(extensionSecrets({ fetchData: { db: secret<DbCredentials>('prod/db') }, setToContext }))
      .handler(async (_event, context) => {
        expectTypeOf(context.db).toEqualTypeOf<DbCredentials | undefined>()
      })
  })
})

describe('option types', () => {
  test('a parameter that may reference a secret may be bytes under auto', () => {
    const name: string = '/app/from-config'
    middy()
      .use(
        extensionSecrets({
          fetchData: {
            reference: parameter('/aws/reference/secretsmanager/prod/cert'),
            unknownName: parameter(name),
            plain: { parameter: '/aws/reference/secretsmanager/prod/db' },
          },
        }),
      )
      .handler(async (_event, context) => {
        expectTypeOf(context.reference).toEqualTypeOf<
          string | string[] | JsonObject | JsonArray | Uint8Array
        >()
        expectTypeOf(context.unknownName).toEqualTypeOf<
          string | string[] | JsonObject | JsonArray | Uint8Array
        >()
        expectTypeOf(context.plain).toEqualTypeOf<string | string[] | JsonObject | JsonArray | Uint8Array>()
      })
  })

  test('a wide parse mode gives the union of what each mode guarantees', () => {
    const mode = 'text' as 'text' | 'list'
    middy()
      .use(extensionSecrets({ fetchData: { hosts: parameter('/app/hosts', { parse: mode }) } }))
      .handler(async (_event, context) => {
        expectTypeOf(context.hosts).toEqualTypeOf<string | string[]>()
      })
  })

  test('options outside the documented set are type errors', () => {
    // @ts-expect-error: cachExpiry is a typo
    extensionSecrets({ fetchData: { a: parameter('/a') }, cachExpiry: 1 })
    // @ts-expect-error: binary is for secrets only
    parameter('/a', { parse: 'binary' })
    // @ts-expect-error: list is for parameters only
    secret('a', { parse: 'list' })
    // @ts-expect-error: versionStage is a secret selector
    parameter('/a', { versionStage: 'AWSCURRENT' })
    // @ts-expect-error: an explicit type does not relax option checks
    secret<DbCredentials>('a', { version: 3 })
  })

  test('ExtensionSecretsError carries a code from the union', () => {
    expectTypeOf<ExtensionSecretsError['code']>().toEqualTypeOf<
      | 'EXTENSION_UNREACHABLE'
      | 'EXTENSION_NOT_READY'
      | 'TIMEOUT'
      | 'UPSTREAM_ERROR'
      | 'TOKEN_MISSING'
      | 'TOKEN_REJECTED'
      | 'MALFORMED_RESPONSE'
      | 'PARSE_ERROR'
      | 'VALIDATION_ERROR'
      | 'FETCH_FAILED'
    >()
  })
})

describe('optional values', () => {
  test('`optional: true` adds undefined to whatever the entry produces', () => {
    middy()
      .use(
        extensionSecrets({
          fetchData: {
            previous: secret('prod/db', { versionStage: 'AWSPREVIOUS', schema: dbSchema, optional: true }),
            pending: secret<DbCredentials | undefined>('prod/db', {
              versionStage: 'AWSPENDING',
              optional: true,
            }),
            flag: parameter('/app/flag', { parse: 'text', optional: true }),
            plain: { parameter: '/app/hosts', parse: 'list', optional: true },
            required: parameter('/app/url', { parse: 'text', optional: false }),
            current: secret('prod/db', { schema: dbSchema }),
          },
        }),
      )
      .handler(async (_event, context) => {
        expectTypeOf(context.previous).toEqualTypeOf<DbCredentials | undefined>()
        expectTypeOf(context.pending).toEqualTypeOf<DbCredentials | undefined>()
        expectTypeOf(context.flag).toEqualTypeOf<string | undefined>()
        expectTypeOf(context.plain).toEqualTypeOf<string[] | undefined>()
        expectTypeOf(context.required).toEqualTypeOf<string>()
        expectTypeOf(context.current).toEqualTypeOf<DbCredentials>()
      })
  })

  test('a declared type must include undefined to be optional: the options are hidden from it', () => {
    // @ts-expect-error the value may be undefined, which DbCredentials does not say
    secret<DbCredentials>('prod/db', { versionStage: 'AWSPENDING', optional: true })
    secret<DbCredentials>('prod/db', { optional: false })
    parameter<string | undefined>('/app/flag', { optional: true })
  })

  test('an optional only known at run time may be undefined', () => {
    const optional = Math.random() > 0.5
    middy()
      .use(extensionSecrets({ fetchData: { flag: parameter('/app/flag', { parse: 'text', optional }) } }))
      .handler(async (_event, context) => {
        expectTypeOf(context.flag).toEqualTypeOf<string | undefined>()
      })
  })
})

describe('mistakes the types refuse, as the run-time checks do', () => {
  test('conflicting selectors and a field without JSON, in helpers and plain objects', () => {
    // @ts-expect-error a parameter takes `version` or `label`, not both
    parameter('/a', { version: 2, label: 'Prod' })
    // @ts-expect-error a secret takes `versionId` or `versionStage`, not both
    secret('a', { versionId: 'v1', versionStage: 'AWSPREVIOUS' })
    // @ts-expect-error `field` needs parse 'auto' or 'json'
    secret('a', { field: 'password', parse: 'text' })
    // @ts-expect-error `field` needs parse 'auto' or 'json'
    parameter('/a', { field: 'x', parse: 'list' })
    extensionSecrets({
      fetchData: {
        // @ts-expect-error the same refusal for a plain object
        a: { parameter: '/a', version: 2, label: 'Prod' },
        // @ts-expect-error the same refusal for a plain object
        b: { secret: 'b', versionId: 'v1', versionStage: 'AWSCURRENT' },
        // @ts-expect-error the same refusal for a plain object
        c: { secret: 'c', field: 'password', parse: 'text' },
      },
    })
    // Each alone is fine.
    parameter('/a', { version: 2 })
    secret('a', { versionStage: 'AWSPREVIOUS', field: 'password', parse: 'json' })
  })

  test('keys that would replace a member of the context, or are not identifiers', () => {
    extensionSecrets({
      fetchData: {
        // @ts-expect-error a member of the Lambda context
        awsRequestId: parameter('/a'),
        // @ts-expect-error a member of Middy 7's durable context
        step: parameter('/a'),
        // @ts-expect-error a member of every object
        toString: parameter('/a'),
        // @ts-expect-error not an identifier
        'db-password': secret('prod/db'),
        // @ts-expect-error not an identifier
        '2fa': secret('prod/db'),
        // @ts-expect-error not an identifier
        0: secret('prod/db'),
      },
    })
    extensionSecrets({ fetchData: { dbPassword: secret('prod/db'), $ok: secret('a'), _ok: secret('b') } })
  })

  test('misspelt and removed options', () => {
    // @ts-expect-error cachExpiry is a typo
    extensionSecrets({ fetchData: { a: parameter('/a') }, cachExpiry: 1 })
    // @ts-expect-error refreshOn is a middleware now
    extensionSecrets({ fetchData: { a: parameter('/a') }, refreshOn: () => true })
    // @ts-expect-error stages became separate optional keys
    secret('a', { stages: ['previous'] })
    // @ts-expect-error a misspelt entry option in a plain object
    extensionSecrets({ fetchData: { a: { parameter: '/a', verison: 3 } } })
  })
})

describe('rotation and observability types', () => {
  test('invalidate takes fetchData keys only, and onEvent events are a discriminated union', () => {
    const middleware = extensionSecrets({
      fetchData: { db: secret('prod/db'), url: parameter('/app/url') },
      onEvent: (event) => {
        if (event.type === 'fetched')
          expectTypeOf(event.cache).toEqualTypeOf<'off' | 'miss' | 'expired' | 'shared'>()
        if (event.type === 'hit') expectTypeOf(event.ageMs).toEqualTypeOf<number>()
        if (event.type === 'failed') expectTypeOf(event.code).toEqualTypeOf<ExtensionSecretsError['code']>()
      },
    })
    expectTypeOf<ExtensionSecretsEvent['type']>().toEqualTypeOf<
      'hit' | 'fetched' | 'missing' | 'failed' | 'stale'
    >()
    middleware.invalidate()
    middleware.invalidate(['db', 'url'])
    middleware.invalidate(['db'], { refreshNow: true })
    // @ts-expect-error not a fetchData key
    middleware.invalidate(['nope'])
    middy()
      .use(middleware)
      .use(refreshOn(middleware, (error) => (error instanceof Error ? ['db'] : false)))
      .use(refreshOn(middleware, async () => true, { refreshNow: true }))
      // @ts-expect-error refreshOn names fetchData keys only
      .use(refreshOn(middleware, () => ['nope']))
  })
})
