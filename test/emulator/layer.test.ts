import { describe, expect, it } from 'vitest'
import { layerTokenBody, upstreamErrorBody } from '../../src/emulator/index.js'
import { ask, askJson, emulate, parameter, secret, token } from './helpers.js'

// The layer's documented answers, how it names things, and the switches for what no source shows.

describe('the layer', () => {
  it('answers a wrong token with 401 and its documented body', async () => {
    const emulator = await emulate({ token })
    expect(await ask(emulator, secret('prod/plain'), { token: 'wrong' })).toEqual(
      expect.objectContaining({ status: 401, body: layerTokenBody }),
    )
    expect(layerTokenBody).toBe('Bad session token or header key')
  })

  it('does not take the token from X-Vault-Token, which only the agent reads', async () => {
    const emulator = await emulate({ token })
    const reply = await ask(emulator, secret('prod/plain'), {
      token: null,
      headers: { 'X-Vault-Token': token },
    })
    expect(reply.status).toBe(401)
  })

  it('answers in the SDK shape with ResultMetadata, and a text Content-Type', async () => {
    const reply = await ask(await emulate(), secret('prod/plain'))
    expect(reply.headers['content-type']).toBe('text/plain; charset=utf-8')
    expect(JSON.parse(reply.body).ResultMetadata).toEqual({})
  })

  it('accepts a partial secret ARN, as Secrets Manager does', async () => {
    const emulator = await emulate()
    const full = (await askJson(emulator, secret('prod/plain'))).ARN as string
    const partial = full.slice(0, -7)
    expect((await askJson(emulator, secret(partial))).Name).toBe('prod/plain')
    expect((await askJson(emulator, secret(full))).Name).toBe('prod/plain')
  })

  it("treats another account's or region's ARN as an unknown name, never answering with a wrong ARN", async () => {
    const emulator = await emulate()
    for (const arn of [
      'arn:aws:ssm:us-east-1:999999999999:parameter/app/url',
      'arn:aws:ssm:eu-west-1:123456789012:parameter/app/url',
      'arn:aws:secretsmanager:us-east-1:999999999999:secret:prod/plain',
    ]) {
      const path = arn.includes(':ssm:') ? parameter(arn) : secret(arn)
      expect(await ask(emulator, path)).toMatchObject({ status: 400, body: upstreamErrorBody })
    }
    const own = await askJson(emulator, parameter('arn:aws:ssm:us-east-1:123456789012:parameter/app/url'))
    expect(own.Parameter.ARN).toBe('arn:aws:ssm:us-east-1:123456789012:parameter/app/url')
  })
})

describe("the layer's unconfirmed behaviours, as switches", () => {
  it('checkOrder: route-first answers a wrong path before a wrong token', async () => {
    const tokenFirst = await emulate({ token })
    expect((await ask(tokenFirst, '/nowhere', { token: 'wrong' })).status).toBe(401)
    const routeFirst = await emulate({ token, unconfirmed: { checkOrder: 'route-first' } })
    expect(await ask(routeFirst, '/nowhere', { token: 'wrong' })).toMatchObject({
      status: 404,
      body: 'Not found',
    })
  })

  it('unknownParameters: ignored by default, or rejected as the agent does', async () => {
    expect((await ask(await emulate(), secret('prod/plain', '&extra=1'))).status).toBe(200)
    const strict = await emulate({ unconfirmed: { unknownParameters: 'reject' } })
    expect(await ask(strict, secret('prod/plain', '&extra=1'))).toMatchObject({
      status: 400,
      body: 'unknown parameter: extra',
    })
  })

  it('versionWithLabel: the first one counts by default, or the pair is refused', async () => {
    const first = await askJson(await emulate(), parameter('/app/flags', '&label=Prod&version=1'))
    expect(first.Parameter.Value).toBe('{"a":2}')
    const strict = await emulate({ unconfirmed: { versionWithLabel: 'reject' } })
    expect((await ask(strict, parameter('/app/flags', '&label=Prod&version=1'))).status).toBe(400)
  })

  it('contentType, errorNewline and keepAliveTimeoutMs', async () => {
    const emulator = await emulate({
      unconfirmed: { contentType: null, errorNewline: true, keepAliveTimeoutMs: 0 },
    })
    const reply = await ask(emulator, secret('prod/missing'))
    expect(reply.headers['content-type']).toBeUndefined()
    expect(reply.body).toBe(`${upstreamErrorBody}\n`)
  })
})
