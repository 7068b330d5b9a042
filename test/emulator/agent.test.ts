import { connect } from 'node:net'
import { describe, expect, it } from 'vitest'
import { agentTokenBody } from '../../src/emulator/index.js'
import { ask, askJson, emulate, parameter, secret, sleep, token } from './helpers.js'

// The agent flavour, point by point against the AWS Secrets Manager Agent's source (server.rs, parse.rs,
// cache_manager.rs, output.rs).

const agent = (options = {}) => emulate({ flavour: 'agent', token, ...options })

describe('the agent: requests it refuses', () => {
  it('answers a wrong or missing token with 403 Bad Token', async () => {
    const emulator = await agent()
    expect(await ask(emulator, secret('prod/plain'), { token: 'wrong' })).toMatchObject({
      status: 403,
      body: agentTokenBody,
    })
    expect(await ask(emulator, secret('prod/plain'), { token: null })).toMatchObject({ status: 403 })
  })

  it('accepts the token in X-Vault-Token', async () => {
    const emulator = await agent()
    const reply = await ask(emulator, secret('prod/plain'), {
      token: null,
      headers: { 'X-Vault-Token': token },
    })
    expect(reply.status).toBe(200)
  })

  it('answers 400 Forwarded to X-Forwarded-For, before looking at the token', async () => {
    const emulator = await agent()
    const headers = { 'X-Forwarded-For': '10.0.0.1' }
    expect(await ask(emulator, secret('prod/plain'), { token: 'wrong', headers })).toMatchObject({
      status: 400,
      body: 'Forwarded',
    })
  })

  it('serves GET /ping with 200 healthy and no token', async () => {
    const emulator = await agent()
    expect(await ask(emulator, '/ping', { token: null })).toMatchObject({ status: 200, body: 'healthy' })
    expect((await ask(emulator, '/ping', { token: null, method: 'POST' })).status).toBe(405)
  })

  it('rejects an unknown parameter and a bad refreshNow value; a repeated parameter keeps its last value', async () => {
    const emulator = await agent()
    expect(await ask(emulator, secret('prod/plain', '&withDecryption=true'))).toMatchObject({
      status: 400,
      body: 'unknown parameter: withDecryption',
    })
    expect(await ask(emulator, secret('prod/plain', '&refreshNow=yes'))).toMatchObject({
      status: 400,
      body: 'invalid refreshNow value',
    })
    const last = await askJson(emulator, '/secretsmanager/get?secretId=prod%2Fdb&secretId=prod%2Fplain')
    expect(last.Name).toBe('prod/plain')
  })

  it('knows no Parameter Store path: 404 Not found', async () => {
    const emulator = await agent()
    expect(await ask(emulator, parameter('/app/url'))).toMatchObject({ status: 404, body: 'Not found' })
  })

  it(`answers 429 Connection limit exceeded above max_conn open connections`, async () => {
    const emulator = await agent({ maxConn: 2 })
    const open = await Promise.all([0, 1].map(() => openSocket(emulator.port)))
    try {
      expect(await ask(emulator, secret('prod/plain'))).toMatchObject({
        status: 429,
        body: 'Connection limit exceeded',
      })
      // Health checks get two connections more.
      expect((await ask(emulator, '/ping', { token: null })).status).toBe(200)
    } finally {
      for (const socket of open) socket.destroy()
    }
  })
})

describe('the agent: answers', () => {
  it('answers in its own shape: CreatedDate in epoch seconds as a string, absent fields left out, no ResultMetadata, no Content-Type', async () => {
    const emulator = await agent()
    const reply = await ask(emulator, secret('prod/plain'))
    expect(reply.headers['content-type']).toBeUndefined()
    const body = JSON.parse(reply.body)
    expect(Object.keys(body)).toEqual([
      'ARN',
      'Name',
      'VersionId',
      'SecretString',
      'VersionStages',
      'CreatedDate',
    ])
    expect(body.CreatedDate).toMatch(/^\d{10}(\.\d{1,3})?$/)
    const binary = await askJson(emulator, secret('prod/cert'))
    expect(binary.SecretBinary).toBe('AAECAw==')
    expect(binary).not.toHaveProperty('SecretString')
  })

  it('answers upstream failures with the upstream status and a JSON body', async () => {
    const emulator = await agent()
    const missing = await ask(emulator, secret('prod/missing'))
    expect(missing.status).toBe(400)
    expect(JSON.parse(missing.body)).toEqual({
      __type: 'ResourceNotFoundException',
      message: "Secrets Manager can't find the specified secret.",
    })
    const denied = JSON.parse((await ask(emulator, secret('prod/forbidden'))).body)
    expect(denied.__type).toBe('AccessDeniedException')
    const stage = JSON.parse((await ask(emulator, secret('prod/plain', '&versionStage=NOPE'))).body)
    expect(stage.__type).toBe('ResourceNotFoundException')
  })

  it('skips its cache on refreshNow=true and rewrites the entry', async () => {
    const emulator = await agent({ values: { secrets: { rotating: 'first' } } })
    expect((await askJson(emulator, secret('rotating'))).SecretString).toBe('first')
    emulator.setValues({ secrets: { rotating: 'second' } }, { keepCache: true })
    expect((await askJson(emulator, secret('rotating'))).SecretString).toBe('first')
    expect((await askJson(emulator, secret('rotating', '&refreshNow=true'))).SecretString).toBe('second')
    // The entry was rewritten: a plain request now gets the new value from the cache.
    expect((await askJson(emulator, secret('rotating'))).SecretString).toBe('second')
    expect(emulator.requests.map((request) => request.diagnosis)).toEqual(['miss', 'hit', 'miss', 'hit'])
  })

  it('keeps the old entry when a refreshNow fails', async () => {
    const emulator = await agent({ values: { secrets: { rotating: 'first' } } })
    await askJson(emulator, secret('rotating'))
    emulator.setValues({ secrets: {} }, { keepCache: true })
    expect((await ask(emulator, secret('rotating', '&refreshNow=1'))).status).toBe(400)
    expect((await askJson(emulator, secret('rotating'))).SecretString).toBe('first')
  })

  it('closes each connection a fixed time after accepting it, even mid-request', async () => {
    const emulator = await agent({ connectionLifetimeMs: 150, faults: [{ action: 'hang' }] })
    const socket = await openSocket(emulator.port)
    const closed = new Promise<number>((resolve) => {
      const startedAt = performance.now()
      socket.once('close', () => resolve(performance.now() - startedAt))
    })
    socket.write(`GET /ping HTTP/1.1\r\nHost: x\r\n\r\n`)
    const after = await closed
    expect(after).toBeGreaterThanOrEqual(100)
    expect(after).toBeLessThan(1_000)
  })
})

function openSocket(port: number): Promise<import('node:net').Socket> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1', () => sleep(20).then(() => resolve(socket)))
    socket.on('error', reject)
  })
}
