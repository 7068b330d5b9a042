import { inspect } from 'node:util'
import middy from '@middy/core'
import { getInternal } from '@middy/util'
import { describe, expect, test } from 'vitest'
import { type ExtensionSecretsError, extensionSecrets, parameter, secret } from '../src/index.js'
import { lambdaContext, secretMarker, testToken, useEmulator } from './helpers.js'

// What a handler receives, where the values go, and when the extension is asked.

type DbCredentials = { username: string; password: string }

const start = useEmulator()

describe('a handler written like the README example', () => {
  test('receives every value with its documented runtime shape', async () => {
    const { port } = await start()
    const handler = middy()
      .use(
        extensionSecrets({
          fetchData: {
            db: secret<DbCredentials>('prod/db'),
            dbPassword: secret('prod/db', { field: 'password' }),
            apiUrl: parameter('/app/api-url', { parse: 'text' }),
            hosts: parameter('/app/hosts', { parse: 'list' }),
            signingKey: parameter('/app/signing-key', { parse: 'text' }),
            previous: secret('prod/api-key', { versionStage: 'AWSPREVIOUS' }),
            flags: parameter('/app/flags', { version: 3, parse: 'json' }),
            cert: secret('prod/cert', { parse: 'binary' }),
          },
          cacheExpiry: 60_000,
          port,
          token: testToken,
        }),
      )
      .handler(async (_event, context) => ({
        db: context.db,
        dbPassword: context.dbPassword,
        apiUrl: context.apiUrl,
        hosts: context.hosts,
        signingKey: context.signingKey,
        previous: context.previous,
        flags: context.flags,
        cert: context.cert,
      }))

    const result = await handler({}, lambdaContext())
    expect(result.db).toEqual({ username: 'app', password: `${secretMarker}-db-password` })
    expect(result.dbPassword).toBe(`${secretMarker}-db-password`)
    expect(result.apiUrl).toBe('https://api.example.com')
    expect(result.hosts).toEqual(['a.example.com', 'b.example.com'])
    expect(result.signingKey).toBe(`${secretMarker}-signing-key`)
    expect(result.previous).toBe(`${secretMarker}-old-key`)
    expect(result.flags).toEqual({ beta: true, dark: true })
    expect(result.cert).toBeInstanceOf(Uint8Array)
    expect([...(result.cert as Uint8Array)]).toEqual([0, 1, 2, 3, 254, 255])
  })

  test('auto parsing follows the value: StringList to array, JSON to objects, the rest as text', async () => {
    const { port } = await start()
    const handler = middy()
      .use(
        extensionSecrets({
          fetchData: {
            hosts: parameter('/app/hosts'),
            flags: parameter('/app/flags'),
            url: parameter('/app/api-url'),
            notJson: parameter('/app/json-looking'),
            db: secret('prod/db'),
            plain: secret('prod/plain'),
            cert: secret('prod/cert'),
            labelled: parameter('/app/flags', { label: 'Prod' }),
          },
          port,
          token: testToken,
        }),
      )
      .handler(async (_event, context) => ({ ...context }))
    const context = lambdaContext()
    await handler({}, context)
    const values = context as unknown as Record<string, unknown>
    expect(values.hosts).toEqual(['a.example.com', 'b.example.com'])
    expect(values.flags).toEqual({ beta: true, dark: true })
    expect(values.url).toBe('https://api.example.com')
    expect(values.notJson).toBe('[not json')
    expect(values.db).toEqual({ username: 'app', password: `${secretMarker}-db-password` })
    expect(values.plain).toBe(`${secretMarker}-plain`)
    expect(values.cert).toBeInstanceOf(Uint8Array)
    expect(values.labelled).toEqual({ beta: true })
  })
})

describe('where values go', () => {
  test('values are on request.internal too, so getInternal works in a later middleware', async () => {
    const { port } = await start()
    let seen: Record<string, unknown> | undefined
    const handler = middy()
      .use(
        extensionSecrets({
          fetchData: { db: secret('prod/db', { field: 'username' }), url: parameter('/app/api-url') },
          port,
          token: testToken,
        }),
      )
      .use({
        before: async (request) => {
          seen = await getInternal(['db', 'url'], request)
        },
      })
      .handler(async () => 'ok')
    await handler({}, lambdaContext())
    expect(seen).toEqual({ db: 'app', url: 'https://api.example.com' })
  })

  test('setToContext: false leaves the context alone', async () => {
    const { port } = await start()
    let internal: Record<string, unknown> = {}
    const handler = middy()
      .use(
        extensionSecrets({
          fetchData: { url: parameter('/app/api-url') },
          setToContext: false,
          port,
          token: testToken,
        }),
      )
      .use({
        before: (request) => {
          internal = { ...request.internal }
        },
      })
      .handler(async (_event, context) => Object.hasOwn(context, 'url'))
    expect(await handler({}, lambdaContext())).toBe(false)
    expect(internal.url).toBe('https://api.example.com')
  })

  test('secrets and SecureString values are readable but kept out of JSON.stringify and util.inspect', async () => {
    const { port } = await start()
    const context = lambdaContext()
    const handler = middy()
      .use(
        extensionSecrets({
          fetchData: {
            db: secret('prod/db'),
            key: parameter('/app/signing-key'),
            url: parameter('/app/api-url'),
          },
          port,
          token: testToken,
        }),
      )
      .handler(async (_event, ctx) => [(ctx.db as DbCredentials).password, ctx.key, ctx.url])
    const [password, key, url] = await handler({}, context)
    expect(password).toBe(`${secretMarker}-db-password`)
    expect(key).toBe(`${secretMarker}-signing-key`)
    expect(url).toBe('https://api.example.com')
    expect(JSON.stringify(context)).not.toContain(secretMarker)
    expect(inspect(context, { depth: 10 })).not.toContain(secretMarker)
    expect(JSON.stringify(context)).toContain('https://api.example.com')
    expect(Object.keys(context)).toContain('url')
    expect(Object.keys(context)).not.toContain('db')
  })

  test('hideSecrets: false puts every value on the context as an ordinary property', async () => {
    const { port } = await start()
    const context = lambdaContext()
    const handler = middy()
      .use(
        extensionSecrets({
          fetchData: { plain: secret('prod/plain') },
          hideSecrets: false,
          port,
          token: testToken,
        }),
      )
      .handler(async () => 'ok')
    await handler({}, context)
    expect(Object.keys(context)).toContain('plain')
  })
})

describe('when the extension is contacted', () => {
  test('never before the first invocation: creating the handler sends nothing', async () => {
    const server = await start()
    const handler = middy()
      .use(
        extensionSecrets({
          fetchData: { url: parameter('/app/api-url') },
          port: server.port,
          token: testToken,
        }),
      )
      .handler(async (_event, context) => context.url)
    await new Promise((resolve) => setTimeout(resolve, 50))
    expect(server.requests).toHaveLength(0)
    expect(await handler({}, lambdaContext())).toBe('https://api.example.com')
    expect(server.requests).toHaveLength(1)
  })

  test('the first invocation waits through refused connections and not-ready answers', async () => {
    const server = await start({
      faults: [
        { action: 'refuse', forMs: 300 },
        { action: 'not-ready', afterMs: 300, forMs: 300 },
      ],
    })
    const handler = middy()
      .use(
        extensionSecrets({
          fetchData: { db: secret('prod/db', { field: 'password' }) },
          port: server.port,
          token: testToken,
        }),
      )
      .handler(async (_event, context) => context.db)
    expect(await handler({}, lambdaContext(5_000))).toBe(`${secretMarker}-db-password`)
    const outcomes = server.requests.map((request) => request.outcome)
    expect(outcomes).toContain('not-ready')
    expect(outcomes.at(-1)).toBe('served')
  })

  test('identical sources referenced by several keys are fetched once per invocation', async () => {
    const server = await start()
    const handler = middy()
      .use(
        extensionSecrets({
          fetchData: {
            db: secret('prod/db'),
            user: secret('prod/db', { field: 'username' }),
            password: secret('prod/db', { field: 'password' }),
            previous: secret('prod/db', { versionStage: 'AWSCURRENT' }),
          },
          port: server.port,
          token: testToken,
        }),
      )
      .handler(async (_event, context) => [context.user, context.password])
    expect(await handler({}, lambdaContext())).toEqual(['app', `${secretMarker}-db-password`])
    // The explicit stage is another request; the three others share one.
    expect(server.requests).toHaveLength(2)
  })

  test('at most 32 requests are in flight to the extension at once', async () => {
    const names = Array.from({ length: 40 }, (_, index) => `/app/many/${index}`)
    const server = await start({
      values: { parameters: Object.fromEntries(names.map((name) => [name, name])) },
      faults: [{ action: 'delay', ms: 400 }],
    })
    const fetchData = Object.fromEntries(names.map((name, index) => [`value${index}`, parameter(name)]))
    const handler = middy()
      .use(extensionSecrets({ fetchData, port: server.port, token: testToken }))
      .handler(async (_event, context) => Object.keys(fetchData).map((key) => context[key]))
    expect(await handler({}, lambdaContext(10_000))).toEqual(names)
    // Requests beyond the agent's 32 sockets wait for one to be free: they arrive a delay later.
    const first = Math.min(...server.requests.map((request) => request.at))
    const early = server.requests.filter((request) => request.at - first < 200)
    expect(early).toHaveLength(32)
  })

  test('full ARNs work as parameter names and secret ids', async () => {
    const server = await start()
    // The emulator derives a secret's ARN suffix from its name; read it as a client would see it.
    const answer = await fetch(`${server.url}/secretsmanager/get?secretId=prod%2Fplain`, {
      headers: { 'X-Aws-Parameters-Secrets-Token': testToken },
    })
    const { ARN: secretArn } = (await answer.json()) as { ARN: string }
    const handler = middy()
      .use(
        extensionSecrets({
          fetchData: {
            url: parameter('arn:aws:ssm:us-east-1:123456789012:parameter/app/api-url'),
            plain: secret(secretArn),
          },
          port: server.port,
          token: testToken,
        }),
      )
      .handler(async (_event, context) => [context.url, context.plain])
    expect(secretArn).toMatch(/^arn:aws:secretsmanager:us-east-1:123456789012:secret:prod\/plain-.{6}$/)
    expect(await handler({}, lambdaContext())).toEqual(['https://api.example.com', `${secretMarker}-plain`])
  })

  test('names with reserved URL characters and non-ASCII reach the extension exactly', async () => {
    const name = '/app/a+b&c=d#e%f g/ü€'
    const server = await start({ values: { parameters: { [name]: 'found' } } })
    const handler = middy()
      .use(extensionSecrets({ fetchData: { value: parameter(name) }, port: server.port, token: testToken }))
      .handler(async (_event, context) => context.value)
    expect(await handler({}, lambdaContext())).toBe('found')
    expect(server.requests[0]?.query.name).toBe(name)
  })
})

describe('a binary secret read through /aws/reference/secretsmanager/: the SourceResult byte buffer', () => {
  const name = '/aws/reference/secretsmanager/prod/cert'
  /** A 200 for `name` whose SourceResult holds this Java ByteBuffer dump. */
  const answerWith = (secretBinary: Record<string, unknown>) => ({
    action: 'respond' as const,
    status: 200,
    body: JSON.stringify({
      Parameter: {
        Name: name,
        Type: 'SecureString',
        Value: null,
        SourceResult: JSON.stringify({ name: 'prod/cert', secretBinary }),
      },
    }),
  })
  const read = async (secretBinary: Record<string, unknown>) => {
    const server = await start({ faults: [answerWith(secretBinary)] })
    const handler = middy()
      .use(extensionSecrets({ fetchData: { cert: parameter(name) }, port: server.port, token: testToken }))
      .handler(async (_event, context) => context.cert)
    return handler({}, lambdaContext()).then(
      (value) => ({ value }),
      (error: ExtensionSecretsError) => ({ codes: error.errors?.map((item) => item.code), error }),
    )
  }

  test('signed bytes up to limit become the value', async () => {
    const outcome = await read({ hb: [1, -2, -128, 127, 9], offset: 0, position: 0, limit: 4 })
    expect(outcome).toHaveProperty('value')
    expect([...((outcome as { value: Uint8Array }).value ?? [])]).toEqual([1, 254, 128, 127])
  })

  test.each<[string, Record<string, unknown>]>([
    ['a negative offset', { hb: [1, 2, 3], offset: -1, limit: 2 }],
    ['a fractional offset', { hb: [1, 2, 3], offset: 0.5, limit: 2 }],
    ['a negative limit', { hb: [1, 2, 3], offset: 0, limit: -1 }],
    ['a fractional limit', { hb: [1, 2, 3], offset: 0, limit: 1.5 }],
    ['a limit past the bytes', { hb: [1, 2, 3], offset: 0, limit: 4 }],
    ['an offset past the limit', { hb: [1, 2, 3], offset: 2, limit: 1 }],
    ['an offset as a string', { hb: [1, 2, 3], offset: '0', limit: 3 }],
    ['a byte out of range', { hb: [1, 300, 3] }],
    ['a fractional byte', { hb: [1, 2.5, 3] }],
    ['a byte that is not a number', { hb: [1, '2', 3] }],
  ])('%s is MALFORMED_RESPONSE, not bytes', async (_name, secretBinary) => {
    const outcome = await read(secretBinary)
    expect(outcome).toMatchObject({ codes: ['MALFORMED_RESPONSE'] })
    expect((outcome as { error: ExtensionSecretsError }).error.errors?.[0]?.message).toContain(
      'has a SourceResult whose secretBinary is not a byte buffer',
    )
  })
})
