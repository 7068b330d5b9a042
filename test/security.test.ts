import { createServer, type IncomingHttpHeaders, type Server } from 'node:http'
import { type AddressInfo, isIP } from 'node:net'
import middy from '@middy/core'
import inputOutputLogger from '@middy/input-output-logger'
import fc from 'fast-check'
import { afterEach, describe, expect, test } from 'vitest'
import { extensionSecrets, parameter, secret } from '../src/index.js'
import { failureOf, lambdaContext, secretMarker, testToken, useEmulator } from './helpers.js'
import { propertyRuns } from './property-runs.js'
import { capturingLogs, expectNothingLeaked } from './secrecy-scan.js'

// Where the session token may go, what a name or an option can smuggle into a request, and what a
// fetched value can reach. See docs/decisions/0010-loopback-only.md.

const start = useEmulator()

/** A plain loopback server that records what reaches it and answers with `answer`. */
const servers: Server[] = []
const listening = async (answer: (port: number) => { status: number; headers?: Record<string, string> }) => {
  const seen: { url: string; headers: IncomingHttpHeaders }[] = []
  const server = createServer((request, response) => {
    seen.push({ url: request.url ?? '', headers: request.headers })
    const { status, headers = {} } = answer((server.address() as AddressInfo).port)
    response.writeHead(status, headers).end()
  })
  servers.push(server)
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return { port: (server.address() as AddressInfo).port, seen }
}
afterEach(async () => {
  await Promise.all(
    servers.splice(0).map((server) => new Promise((resolve) => server.close(resolve).closeAllConnections())),
  )
})

describe('the token goes to loopback only', () => {
  const rejected = [
    'example.com',
    'localhost',
    'localhost.',
    '10.0.0.1',
    '169.254.169.254',
    '0.0.0.0',
    '::',
    '::ffff:127.0.0.1',
    '0:0:0:0:0:0:0:1',
    '[::1]',
    '127.0.0.1.nip.io',
    '127.1',
    '2130706433',
    '0x7f.0.0.1',
    ' 127.0.0.1',
    '127.0.0.1\r\nX-Injected: 1',
    '127.0.0.1:80@evil.example',
    '128.0.0.1',
    // Leading zeros: not an IP literal to Node, so a name looked up by DNS, wherever it resolves.
    '127.0.0.08',
    '127.00.0.1',
    '127.0.0.01',
    '0127.0.0.1',
    '127.000.000.001',
  ]
  test.each(rejected)('host %j is rejected at creation', (host) => {
    expect(() => extensionSecrets({ fetchData: { a: parameter('/a') }, host })).toThrow(
      /`host` must be a loopback address/,
    )
  })

  test.each(['127.0.0.1', '127.0.0.2', '127.255.255.254', '::1'])('host %j is accepted', (host) => {
    expect(() => extensionSecrets({ fetchData: { a: parameter('/a') }, host })).not.toThrow()
  })

  test('any host that is accepted is an IPv4 loopback literal or ::1', () => {
    const loopback = /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$|^::1$/
    fc.assert(
      fc.property(
        fc.oneof(
          fc.string(),
          fc.ipV4(),
          fc.ipV6(),
          fc.domain(),
          fc
            .tuple(fc.ipV4(), fc.string())
            .map(([ip, tail]) => `127.${ip.split('.').slice(1).join('.')}${tail}`),
          // 127.x.y.z with some parts padded by zeros.
          fc.tuple(fc.ipV4(), fc.array(fc.nat(2), { minLength: 3, maxLength: 3 })).map(([ip, pads]) =>
            [
              '127',
              ...ip
                .split('.')
                .slice(1)
                .map((part, index) => '0'.repeat(pads[index]!) + part),
            ].join('.'),
          ),
        ),
        (host) => {
          let accepted = true
          try {
            extensionSecrets({ fetchData: { a: parameter('/a') }, host })
          } catch (error) {
            expect(error).toBeInstanceOf(TypeError)
            accepted = false
          }
          if (accepted) {
            expect(host).toMatch(loopback)
            // An address Node connects to as it is, with no lookup.
            expect(isIP(host)).not.toBe(0)
          }
        },
      ),
      { numRuns: propertyRuns['any accepted host is a loopback literal'] },
    )
  })

  test('a redirect to another server is not followed: it gets nothing, the token included', async () => {
    const elsewhere = await listening(() => ({ status: 200 }))
    for (const status of [301, 302, 303, 307, 308]) {
      const redirecting = await listening(() => ({
        status,
        headers: { location: `http://127.0.0.1:${elsewhere.port}/secretsmanager/get?secretId=prod%2Fplain` },
      }))
      const handler = middy()
        .use(
          extensionSecrets({
            fetchData: { a: secret('prod/plain') },
            port: redirecting.port,
            token: testToken,
          }),
        )
        .handler(async () => 'ok')
      const error = await failureOf(() => handler({}, lambdaContext()))
      expect(error.errors?.[0]).toMatchObject({ code: 'MALFORMED_RESPONSE', status, attempts: 1 })
      expect(redirecting.seen).toHaveLength(1)
    }
    expect(elsewhere.seen).toHaveLength(0)
  })

  test('proxy environment variables do not divert requests', async () => {
    const proxy = await listening(() => ({ status: 502 }))
    const emulator = await start()
    const saved = { ...process.env }
    for (const name of ['HTTP_PROXY', 'http_proxy', 'HTTPS_PROXY', 'https_proxy', 'ALL_PROXY'])
      process.env[name] = `http://127.0.0.1:${proxy.port}`
    process.env.NO_PROXY = ''
    try {
      const handler = middy()
        .use(
          extensionSecrets({ fetchData: { a: secret('prod/plain') }, port: emulator.port, token: testToken }),
        )
        .handler(async (_event, context) => context.a)
      expect(await handler({}, lambdaContext())).toBe(`${secretMarker}-plain`)
    } finally {
      for (const name of Object.keys(process.env)) if (!(name in saved)) delete process.env[name]
      Object.assign(process.env, saved)
    }
    expect(proxy.seen).toHaveLength(0)
  })
})

describe('no token, no request', () => {
  test.each([
    ['unset', undefined],
    ['empty', ''],
    ['not a header value', `${secretMarker}\r\nX-Injected: 1`],
  ])('AWS_SESSION_TOKEN %s: TOKEN_MISSING, nothing sent, nothing echoed', async (_label, value) => {
    const emulator = await start()
    const saved = process.env.AWS_SESSION_TOKEN
    if (value === undefined) delete process.env.AWS_SESSION_TOKEN
    else process.env.AWS_SESSION_TOKEN = value
    try {
      const handler = middy()
        .use(extensionSecrets({ fetchData: { a: secret('prod/plain') }, port: emulator.port }))
        .handler(async () => 'ok')
      const error = await failureOf(() => handler({}, lambdaContext()))
      expect(error.errors?.[0]).toMatchObject({ code: 'TOKEN_MISSING', attempts: 0 })
      await expectNothingLeaked({ error, logs: [] }, [secretMarker], [])
    } finally {
      if (saved === undefined) delete process.env.AWS_SESSION_TOKEN
      else process.env.AWS_SESSION_TOKEN = saved
    }
    expect(emulator.requests).toHaveLength(0)
  })

  test('an empty token option is rejected at creation', () => {
    expect(() => extensionSecrets({ fetchData: { a: secret('prod/plain') }, token: '' })).toThrow(TypeError)
  })
})

describe('no header injection', () => {
  const injections = [
    '\r\nX-Injected: 1',
    '\nX-Injected: 1',
    ' HTTP/1.1\r\nX-Injected: 1\r\n\r\nGET /',
    '%0d%0aX-Injected: 1',
  ]

  test('names, version ids, stages and labels carrying CR/LF reach the extension as values, not headers', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...injections),
        fc.string({ maxLength: 6 }),
        async (injection, prefix) => {
          const name = `${prefix}x${injection}`
          const emulator = await start({
            values: { parameters: { [name]: 'parameter' }, secrets: { [name]: 'secret' } },
          })
          const handler = middy()
            .use(
              extensionSecrets({
                fetchData: {
                  p: parameter(name, { label: `L${injection}` }),
                  s: secret(name, { versionStage: `S${injection}` }),
                  i: secret(name, { versionId: `I${injection}` }),
                },
                port: emulator.port,
                token: testToken,
              }),
            )
            .handler(async () => 'ok')
          // Those labels and stages do not exist: the extension refuses them with its generic 400.
          const error = await failureOf(() => handler({}, lambdaContext()))
          expect(error.errors?.map((item) => item.code)).toEqual([
            'UPSTREAM_ERROR',
            'UPSTREAM_ERROR',
            'UPSTREAM_ERROR',
          ])
          expect(emulator.requests).toHaveLength(3)
          for (const request of emulator.requests) {
            expect(request.headers).not.toContain('x-injected')
            expect(request.method).toBe('GET')
          }
          const queries = emulator.requests.map((request) => request.query)
          expect(queries).toContainEqual({ name, label: `L${injection}`, withDecryption: 'true' })
          expect(queries).toContainEqual({ secretId: name, versionStage: `S${injection}` })
          expect(queries).toContainEqual({ secretId: name, versionId: `I${injection}` })
          await emulator.close()
        },
      ),
      { numRuns: propertyRuns['CR/LF in names and selectors never become headers'] },
    )
  })

  test('only the token header is added to a request', async () => {
    const emulator = await start()
    const handler = middy()
      .use(
        extensionSecrets({ fetchData: { a: secret('prod/plain') }, port: emulator.port, token: testToken }),
      )
      .handler(async () => 'ok')
    await handler({}, lambdaContext())
    expect(emulator.requests[0]?.headers.sort()).toEqual([
      'connection',
      'host',
      'x-aws-parameters-secrets-token',
    ])
  })
})

describe('no prototype pollution', () => {
  const prototypeKeys = Object.getOwnPropertyNames(Object.prototype)
  const hostile = [
    '{"__proto__":{"polluted":"yes"}}',
    '{"constructor":{"prototype":{"polluted":"yes"}}}',
    '{"a":{"__proto__":{"polluted":"yes"}}}',
  ]

  test.each(hostile)(
    'a JSON value %s reaches no prototype, whatever the parse mode or field',
    async (json) => {
      const emulator = await start({ values: { secrets: { hostile: json } } })
      const handler = middy()
        .use(
          extensionSecrets({
            fetchData: {
              auto: secret('hostile'),
              json: secret('hostile', { parse: 'json' }),
              proto: secret('hostile', { field: '__proto__' }),
              polluted: secret('hostile', { field: '__proto__.polluted' }),
              ctor: secret('hostile', { field: 'constructor.prototype' }),
              nested: secret('hostile', { field: 'a.__proto__' }),
            },
            port: emulator.port,
            token: testToken,
          }),
        )
        .handler(async (_event, context) => context)
      await handler({}, lambdaContext()).catch(() => undefined)
      expect(Object.getOwnPropertyNames(Object.prototype)).toEqual(prototypeKeys)
      expect(({} as Record<string, unknown>).polluted).toBeUndefined()
      expect(Object.prototype).not.toHaveProperty('polluted')
    },
  )

  test.each(['__proto__', 'constructor', 'prototype', 'hasOwnProperty', 'toString', 'valueOf'])(
    'a fetchData key %j is rejected at creation, even from JSON',
    (key) => {
      const fetchData = JSON.parse(`{"${key}": {"secret": "a"}}`)
      expect(() => extensionSecrets({ fetchData })).toThrow(TypeError)
    },
  )
})

describe('secret values stay out of what is printed', () => {
  test('JSON.stringify and util.inspect of the context, errors, Middy logs and console lines', async () => {
    const emulator = await start()
    const context = lambdaContext()
    const logged: unknown[] = []
    const handler = middy()
      .use(inputOutputLogger({ logger: (message: unknown) => logged.push(message) }))
      .use(
        extensionSecrets({
          fetchData: {
            db: secret('prod/db'),
            password: secret('prod/db', { field: 'password' }),
            key: parameter('/app/signing-key'),
            url: parameter('/app/api-url'),
          },
          port: emulator.port,
          token: testToken,
        }),
      )
      .handler(async (_event, handlerContext) => {
        console.log('handling', handlerContext)
        console.info(JSON.stringify(handlerContext))
        return { ok: typeof handlerContext.password === 'string' }
      })
    const { result, logs } = await capturingLogs(() => handler({ event: 'e' }, context))
    expect(result).toEqual({ ok: true })
    // A String parameter is not secret: it is on the context in the open.
    expect(JSON.stringify(context)).toContain('https://api.example.com')
    await expectNothingLeaked(
      {
        context,
        logs: [...logs, ...logged.map((entry) => JSON.stringify(entry))],
        requests: emulator.requests,
      },
      [secretMarker],
      [testToken],
    )
  })
})
