import { describe, expect, it, vi } from 'vitest'
import { createAccount, startEmulator, upstreamErrorBody } from '../../src/emulator/index.js'
import { ask, emulate, parameter, secret, started, token, values } from './helpers.js'

// What happens on a cache miss: the account's quota, the SDK's attempts, latency, timeouts and the
// outbound connection limit. Real timers: timing is the point.

const names = (count: number) => Array.from({ length: count }, (_, index) => `/n/${index}`)
const manyParameters = (count: number) => ({
  parameters: Object.fromEntries(names(count).map((name) => [name, name])),
})

describe('the account quota', () => {
  it('throttles misses only: cached answers never take from the quota', async () => {
    const account = createAccount({ getParameterPerSecond: 2 })
    const emulator = await emulate({ account, upstream: { retryBackoffMs: 0 } })
    for (let index = 0; index < 5; index++) {
      expect((await ask(emulator, parameter('/app/url'))).status).toBe(200)
    }
    expect(emulator.requests.map((request) => request.diagnosis)).toEqual([
      'miss',
      'hit',
      'hit',
      'hit',
      'hit',
    ])
  })

  it('is shared by the emulators of one account; the layer answers the generic 400 after its three attempts', async () => {
    const account = createAccount({ getParameterPerSecond: 2 })
    const one = await emulate({ account, values: manyParameters(4), upstream: { retryBackoffMs: 0 } })
    const two = await emulate({ account, values: manyParameters(4), upstream: { retryBackoffMs: 0 } })
    expect((await ask(one, parameter('/n/0'))).status).toBe(200)
    expect((await ask(two, parameter('/n/1'))).status).toBe(200)
    expect(await ask(one, parameter('/n/2'))).toMatchObject({ status: 400, body: upstreamErrorBody })
    expect(one.requests.at(-1)?.diagnosis).toBe('throttled')
  })

  it('refills at its rate, so a throttled miss is retried with backoff and can succeed', async () => {
    const account = createAccount({ getParameterPerSecond: 10 })
    const emulator = await emulate({ account, values: manyParameters(11), upstream: { retryBackoffMs: 60 } })
    // The SDK's backoff is a random share of 60 ms × 2ⁿ: at its longest (120 ms, then 240 ms) the
    // eleventh call is past the 100 ms refill, so the outcome does not depend on chance.
    const random = vi.spyOn(Math, 'random').mockReturnValue(0.999)
    try {
      const answers = await Promise.all(names(11).map((name) => ask(emulator, parameter(name))))
      expect(answers.every((reply) => reply.status === 200)).toBe(true)
    } finally {
      random.mockRestore()
    }
  })

  it('the agent answers a throttled miss with the upstream status and ThrottlingException', async () => {
    const account = createAccount({ getSecretValuePerSecond: 1 })
    const emulator = await emulate({ flavour: 'agent', token, account, upstream: { retryBackoffMs: 0 } })
    expect((await ask(emulator, secret('prod/plain'))).status).toBe(200)
    const reply = await ask(emulator, secret('prod/db'))
    expect(reply.status).toBe(400)
    expect(JSON.parse(reply.body)).toEqual({ __type: 'ThrottlingException', message: 'Rate exceeded' })
  })

  it('defaults to the AWS quotas and checks its options', () => {
    expect(() => createAccount({ getParameterPerSecond: 0 })).toThrow(/^account\.getParameterPerSecond:/)
    expect(() => createAccount({ quota: 1 } as never)).toThrow(/^account\.quota: unknown key/)
    expect(createAccount().accountId).toBe('123456789012')
  })

  it('names ARNs after the shared account, which region and accountId may not contradict', async () => {
    const account = createAccount({ region: 'eu-west-1', accountId: '111122223333' })
    const emulator = await emulate({ account })
    const body = JSON.parse((await ask(emulator, secret('prod/plain'))).body)
    expect(body.ARN).toMatch(/^arn:aws:secretsmanager:eu-west-1:111122223333:secret:prod\/plain-/)
    await expect(startEmulator({ account, region: 'us-east-1' })).rejects.toThrow(/^region:/)
  })
})

describe('upstream time', () => {
  it('adds each service its latency on a miss, not on a hit', async () => {
    const emulator = await emulate({ upstream: { secretLatencyMs: 80 } })
    let startedAt = performance.now()
    await ask(emulator, secret('prod/plain'))
    expect(performance.now() - startedAt).toBeGreaterThanOrEqual(75)
    startedAt = performance.now()
    await ask(emulator, secret('prod/plain'))
    await ask(emulator, parameter('/app/url'))
    expect(performance.now() - startedAt).toBeLessThan(75)
  })

  it('bounds a miss by the service timeout: the layer answers the generic 400, the agent 504', async () => {
    const layer = await emulate({ secretsManagerTimeoutMillis: 50, faults: [{ action: 'delay', ms: 5_000 }] })
    const startedAt = performance.now()
    expect(await ask(layer, secret('prod/plain'))).toMatchObject({ status: 400, body: upstreamErrorBody })
    expect(performance.now() - startedAt).toBeLessThan(1_000)
    expect(layer.requests[0]?.diagnosis).toBe('timeout')
    const agent = await emulate({
      flavour: 'agent',
      token,
      secretsManagerTimeoutMillis: 50,
      upstream: { secretLatencyMs: 5_000 },
    })
    const reply = await ask(agent, secret('prod/plain'))
    expect(reply.status).toBe(504)
    expect(JSON.parse(reply.body)).toEqual({ __type: 'TimeoutError', message: 'Timeout' })
  })

  it('runs at most maxConnections calls per service at once; the others wait', async () => {
    const emulator = await emulate({
      values: manyParameters(6),
      maxConnections: 2,
      upstream: { parameterLatencyMs: 60 },
    })
    const startedAt = performance.now()
    await Promise.all(names(6).map((name) => ask(emulator, parameter(name))))
    // Six calls two at a time: three rounds of 60 ms.
    expect(performance.now() - startedAt).toBeGreaterThanOrEqual(170)
  })
})

describe('the layer settings', () => {
  it('clamps a TTL above 300 s to 300 with a WARN line in the layer style', async () => {
    const lines: string[] = []
    await emulate({ secretsManagerTtl: 900, ssmParameterStoreTtl: 300, log: (line) => lines.push(line) })
    expect(lines).toEqual([
      '[AWS Parameters and Secrets Lambda Extension] WARN SECRETS_MANAGER_TTL is 900, above the maximum of 300 seconds: using 300',
    ])
  })

  it('keeps a TTL per service', async () => {
    const emulator = await emulate({ secretsManagerTtl: 0, values: { ...values, secrets: { s: 'first' } } })
    await ask(emulator, secret('s'))
    await ask(emulator, parameter('/app/url'))
    await ask(emulator, secret('s'))
    await ask(emulator, parameter('/app/url'))
    expect(emulator.requests.map((request) => request.diagnosis)).toEqual(['miss', 'miss', 'miss', 'hit'])
  })

  it('caches nothing when the cache is disabled or its size is 0, and evicts the oldest entry when full', async () => {
    for (const options of [{ cacheEnabled: false }, { cacheSize: 0 }]) {
      const emulator = await emulate(options)
      await ask(emulator, secret('prod/plain'))
      await ask(emulator, secret('prod/plain'))
      expect(emulator.requests.map((request) => request.diagnosis)).toEqual(['miss', 'miss'])
    }
    const small = await emulate({ cacheSize: 1 })
    for (const name of ['prod/plain', 'prod/db', 'prod/plain']) await ask(small, secret(name))
    expect(small.requests.map((request) => request.diagnosis)).toEqual(['miss', 'miss', 'miss'])
  })

  it.each([
    [{ secretsManagerTtl: -1 }, /^secretsManagerTtl: expected a non-negative number of seconds$/],
    [{ cacheSize: 1001 }, /^cacheSize: expected an integer from 0 to 1000$/],
    [{ maxConnections: 0 }, /^maxConnections: expected a positive integer$/],
    [{ secretsManagerTimeoutMillis: 1.5 }, /^secretsManagerTimeoutMillis: expected a non-negative integer/],
    [{ logLevel: 'verbose' }, /^logLevel: expected one of debug, info, warn, error, none$/],
    [{ flavour: 'agent', secretsManagerTtl: 3601 }, /^secretsManagerTtl: expected at most 3600 seconds/],
    [{ flavour: 'agent', ssmParameterStoreTtl: 1 }, /^ssmParameterStoreTtl: the agent serves no parameters/],
    [{ flavour: 'agent', cacheSize: 0 }, /^cacheSize: expected an integer from 1 to 1000$/],
    [{ maxConn: 10 }, /^maxConn: only for flavour 'agent'$/],
    [{ flavour: 'agent', unconfirmed: {} }, /^unconfirmed: only for flavour 'layer'/],
    [{ flavour: 'proxy' }, /^flavour: expected 'layer' or 'agent'$/],
    [{ unconfirmed: { checkOrder: 'random' } }, /^unconfirmed\.checkOrder:/],
    [{ host: 'localhost' }, /^host: expected an IP literal that is loopback/],
  ])('refuses %j', async (options, message) => {
    await expect(startEmulator(options as never)).rejects.toThrow(message)
    expect(started).toHaveLength(0)
  })
})
