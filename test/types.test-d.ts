import middy from '@middy/core'
import type { Context } from 'aws-lambda'
import { describe, expectTypeOf, test } from 'vitest'
import {
  type ExtensionSecretsError,
  extensionSecrets,
  type FetchEntry,
  type JsonArray,
  type JsonObject,
  type JsonValue,
  parameter,
  type StandardSchemaV1,
  secret,
} from '../src/index.js'

type DbCredentials = { username: string; password: string }

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

describe('rotation and observability types', () => {
  test('stages give { current, and the listed stages as optional }', () => {
    const middleware = extensionSecrets({
      fetchData: {
        db: secret('prod/db', { stages: ['previous', 'pending'], schema: dbSchema }),
        password: secret('prod/db', { stages: ['previous'], field: 'password' }),
      },
    })
    middy()
      .use(middleware)
      .handler(async (_event, context) => {
        expectTypeOf(context.db.current).toEqualTypeOf<DbCredentials>()
        expectTypeOf(context.db.previous).toEqualTypeOf<DbCredentials | undefined>()
        expectTypeOf(context.db.pending).toEqualTypeOf<DbCredentials | undefined>()
        expectTypeOf(context.password.current).toEqualTypeOf<JsonValue>()
        // @ts-expect-error pending was not asked for
        context.password.pending
      })
    // @ts-expect-error 'current' is always fetched; only the others are listed
    secret('prod/db', { stages: ['current'] })
    // @ts-expect-error a declared type cannot see `stages`: type staged secrets through `schema`
    secret<DbCredentials>('prod/db', { stages: ['previous'] })
    const options = { stages: ['previous'] as const }
    // @ts-expect-error nor can it through a variable
    secret<DbCredentials>('prod/db', options)
  })

  test('invalidate takes fetchData keys only, and onEvent events are a discriminated union', () => {
    const middleware = extensionSecrets({
      fetchData: { db: secret('prod/db'), url: parameter('/app/url') },
      onEvent: (event) => {
        if (event.type === 'fetched') expectTypeOf(event.readinessWaitMs).toEqualTypeOf<number>()
        if (event.type === 'invalidated') expectTypeOf(event.keys).toEqualTypeOf<string[]>()
        if (event.type === 'failed') expectTypeOf(event.code).toEqualTypeOf<ExtensionSecretsError['code']>()
      },
      refreshOn: (error) => (error instanceof Error ? ['db'] : false),
    })
    middleware.invalidate()
    middleware.invalidate(['db', 'url'])
    // @ts-expect-error not a fetchData key
    middleware.invalidate(['nope'])
  })
})
