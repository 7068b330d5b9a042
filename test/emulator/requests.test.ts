import { describe, expect, it } from 'vitest'
import { upstreamErrorBody } from '../../src/emulator/index.js'
import { ask, askJson, emulate, parameter, secret, sleep, token } from './helpers.js'

// What the layer refuses, how it decodes queries, its TTL cache, and what is recorded.

describe('requests the layer refuses', () => {
  it('answers 401 Bad session token or header key without a token or with an empty one', async () => {
    const emulator = await emulate()
    for (const sent of [null, '']) {
      expect(await ask(emulator, secret('prod/plain'), { token: sent })).toMatchObject({
        status: 401,
        body: 'Bad session token or header key',
      })
    }
  })

  it('accepts any non-empty token when none is configured', async () => {
    const emulator = await emulate()
    expect(emulator.token).toBeUndefined()
    expect((await ask(emulator, secret('prod/plain'), { token: 'anything' })).status).toBe(200)
  })

  it('accepts only the configured token when one is set', async () => {
    const emulator = await emulate({ token })
    expect(emulator.token).toBe(token)
    expect(await ask(emulator, secret('prod/plain'), { token: 'other' })).toMatchObject({ status: 401 })
    expect(await ask(emulator, secret('prod/plain'), { token: `${token}x` })).toMatchObject({ status: 401 })
    expect((await ask(emulator, secret('prod/plain'), { token })).status).toBe(200)
  })

  it('answers 405 to other methods and 404 to other paths', async () => {
    const emulator = await emulate()
    expect(await ask(emulator, secret('prod/plain'), { method: 'POST' })).toMatchObject({
      status: 405,
      body: 'Not allowed',
    })
    expect(await ask(emulator, '/secretsmanager/list')).toMatchObject({ status: 404, body: 'Not found' })
  })

  it('answers 400 when the name is missing', async () => {
    const emulator = await emulate()
    expect(await ask(emulator, '/secretsmanager/get')).toMatchObject({
      status: 400,
      body: 'missing parameter secretId',
    })
    expect(await ask(emulator, '/systemsmanager/parameters/get?version=1')).toMatchObject({
      status: 400,
      body: 'missing parameter name',
    })
  })

  it('ignores X-Forwarded-For, which only the agent is known to refuse, unless switched on', async () => {
    const headers = { 'X-Forwarded-For': '10.0.0.1' }
    expect((await ask(await emulate(), secret('prod/plain'), { headers })).status).toBe(200)
    const switched = await emulate({ unconfirmed: { forwardedCheck: true } })
    expect(await ask(switched, secret('prod/plain'), { headers })).toMatchObject({
      status: 400,
      body: 'Forwarded',
    })
  })

  it('answers unknown and denied names alike with the generic 400', async () => {
    const emulator = await emulate()
    const answers = await Promise.all([
      ask(emulator, secret('prod/missing')),
      ask(emulator, secret('prod/forbidden')),
      ask(emulator, parameter('/app/missing')),
      ask(emulator, parameter('/app/forbidden', '&withDecryption=true')),
    ])
    for (const reply of answers) expect(reply).toMatchObject({ status: 400, body: upstreamErrorBody })
  })
})

describe('query decoding', () => {
  it('decodes the query form-style, so a raw + names another value', async () => {
    const emulator = await emulate({ values: { secrets: { 'a+b': 'plus', 'a b': 'space' } } })
    expect((await askJson(emulator, '/secretsmanager/get?secretId=a+b')).SecretString).toBe('space')
    expect((await askJson(emulator, secret('a+b'))).SecretString).toBe('plus')
  })

  it('round-trips names with reserved and non-ASCII characters when encoded', async () => {
    const names = ['odd&name', 'hash#name', 'per%cent', 'with space', 'ünï/ćødé', 'eq=ual?']
    const emulator = await emulate({
      values: {
        secrets: Object.fromEntries(names.map((name) => [name, `value of ${name}`])),
        parameters: Object.fromEntries(names.map((name) => [`/${name}`, `value of ${name}`])),
      },
    })
    for (const name of names) {
      expect(await askJson(emulator, secret(name))).toMatchObject({
        Name: name,
        SecretString: `value of ${name}`,
      })
      expect((await askJson(emulator, parameter(`/${name}`))).Parameter.Name).toBe(`/${name}`)
    }
    expect(emulator.requests[0]?.query).toEqual({ secretId: 'odd&name' })
  })
})

describe('the layer cache', () => {
  it('serves new values at once after setValues', async () => {
    const emulator = await emulate({ values: { secrets: { rotating: 'first' } } })
    expect((await askJson(emulator, secret('rotating'))).SecretString).toBe('first')
    emulator.setValues({ secrets: { rotating: 'second' } })
    expect((await askJson(emulator, secret('rotating'))).SecretString).toBe('second')
  })

  it('serves stale values after a rotation with keepCache until the cache is cleared', async () => {
    const emulator = await emulate({ values: { secrets: { rotating: 'first' } } })
    expect((await askJson(emulator, secret('rotating'))).SecretString).toBe('first')
    emulator.setValues({ secrets: { rotating: 'second' } }, { keepCache: true })
    expect((await askJson(emulator, secret('rotating'))).SecretString).toBe('first')
    expect(emulator.requests.map((request) => request.cached)).toEqual([false, true])
    emulator.clearCache()
    expect((await askJson(emulator, secret('rotating'))).SecretString).toBe('second')
  })

  it('serves fresh values once the TTL has passed', async () => {
    const emulator = await emulate({ values: { secrets: { rotating: 'first' } }, secretsManagerTtl: 0.04 })
    await askJson(emulator, secret('rotating'))
    emulator.setValues({ secrets: { rotating: 'second' } }, { keepCache: true })
    await sleep(60)
    expect((await askJson(emulator, secret('rotating'))).SecretString).toBe('second')
  })

  it('keys answers by the whole query and never caches a failure', async () => {
    const emulator = await emulate({ values: { secrets: { rotating: 'first' } } })
    expect((await ask(emulator, secret('late'))).status).toBe(400)
    emulator.setValues({ secrets: { rotating: 'second', late: 'here now' } })
    expect((await askJson(emulator, secret('late'))).SecretString).toBe('here now')
    expect((await askJson(emulator, secret('rotating', '&versionStage=AWSCURRENT'))).SecretString).toBe(
      'second',
    )
  })

  it('caches nothing when the TTL is 0', async () => {
    const emulator = await emulate({ values: { secrets: { rotating: 'first' } }, cacheEnabled: false })
    await askJson(emulator, secret('rotating'))
    emulator.setValues({ secrets: { rotating: 'second' } })
    expect((await askJson(emulator, secret('rotating'))).SecretString).toBe('second')
  })

  it('still checks the token before answering from the cache', async () => {
    const emulator = await emulate({ token })
    await askJson(emulator, secret('prod/plain'))
    expect((await ask(emulator, secret('prod/plain'), { token: 'stolen' })).status).toBe(401)
  })
})

describe('recorded requests', () => {
  it('records names, selectors and header names, never the token or a value', async () => {
    const emulator = await emulate({ token })
    await askJson(emulator, secret('prod/plain', '&versionStage=AWSCURRENT'))
    await askJson(emulator, secret('prod/db'))
    await askJson(emulator, parameter('/app/key', '&withDecryption=true'))
    await ask(emulator, secret('prod/plain', `&leak=${token}`))
    await ask(emulator, secret('prod/plain'), { token: 'wrong-token' })
    expect(emulator.requests[0]).toEqual({
      at: expect.any(Number),
      method: 'GET',
      path: '/secretsmanager/get',
      query: { secretId: 'prod/plain', versionStage: 'AWSCURRENT' },
      headers: ['x-aws-parameters-secrets-token', 'host', 'connection'],
      tokenPresent: true,
      tokenAccepted: true,
      outcome: 'served',
      diagnosis: 'miss',
      status: 200,
      cached: false,
    })
    expect(emulator.requests[4]).toMatchObject({
      tokenPresent: true,
      tokenAccepted: false,
      outcome: 'error',
      diagnosis: 'bad token',
      status: 401,
    })
    const recorded = JSON.stringify(emulator.requests)
    for (const secretText of [token, 'wrong-token', 'a string secret', 'pw', 'param-secret-value']) {
      expect(recorded).not.toContain(secretText)
    }
  })
})
