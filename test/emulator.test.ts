import { Agent, request as httpRequest, type IncomingHttpHeaders } from 'node:http'
import { afterEach, describe, expect, it } from 'vitest'
import {
  type Emulator,
  type EmulatorOptions,
  type EmulatorValues,
  notReadyBody,
  startEmulator,
  upstreamErrorBody,
  validateValues,
} from '../src/emulator/index.js'

const token = 'session-token-9f8e7d'

const values: EmulatorValues = {
  parameters: {
    '/app/url': 'https://example.com',
    '/app/hosts': { type: 'StringList', value: ['a', 'b'] },
    '/app/key': { type: 'SecureString', value: 'param-secret-value' },
    '/app/flags': { versions: ['{"a":1}', '{"a":2}', '{"a":3}'], labels: { Prod: 2 } },
    '/app/datatype': { value: 'ami-123', dataType: 'aws:ec2:image' },
    '/app/forbidden': 'forbidden-param-value',
    plain: 'no leading slash',
  },
  secrets: {
    'prod/plain': 'a string secret',
    'prod/db': { json: { username: 'app', password: 'pw<&>' } },
    'prod/cert': { binary: 'AAECAw==' },
    'prod/api-key': {
      versions: [
        { stages: ['AWSPREVIOUS'], string: 'old-key' },
        { stages: ['AWSCURRENT'], string: 'new-key', versionId: 'explicit-current' },
        { stages: ['AWSPENDING'], json: { k: 1 } },
      ],
    },
    'prod/forbidden': 'forbidden-secret-value',
  },
  denied: ['/app/forbidden', 'prod/forbidden'],
}

const started: Emulator[] = []

async function emulate(options: EmulatorOptions = {}): Promise<Emulator> {
  const emulator = await startEmulator({ values, ...options })
  started.push(emulator)
  return emulator
}

afterEach(async () => {
  await Promise.all(started.splice(0).map((emulator) => emulator.close()))
})

interface Reply {
  status: number
  body: string
  headers: IncomingHttpHeaders
}

interface Ask {
  /** null sends no token header. */
  token?: string | null
  method?: string
  headers?: Record<string, string>
  agent?: Agent
}

function ask(emulator: Emulator, path: string, options: Ask = {}): Promise<Reply> {
  const { method = 'GET', headers = {}, agent } = options
  const sent = options.token === undefined ? token : options.token
  return new Promise((resolve, reject) => {
    const request = httpRequest(
      {
        host: '127.0.0.1',
        port: emulator.port,
        path,
        method,
        agent: agent ?? false,
        headers: { ...(sent === null ? {} : { 'X-Aws-Parameters-Secrets-Token': sent }), ...headers },
      },
      (response) => {
        let body = ''
        response.setEncoding('utf8')
        response.on('data', (chunk: string) => {
          body += chunk
        })
        response.on('end', () =>
          resolve({ status: response.statusCode ?? 0, body, headers: response.headers }),
        )
        response.on('error', reject)
      },
    )
    request.on('error', reject)
    request.end()
  })
}

const secret = (secretId: string, extra = '') =>
  `/secretsmanager/get?secretId=${encodeURIComponent(secretId)}${extra}`
const parameter = (name: string, extra = '') =>
  `/systemsmanager/parameters/get?name=${encodeURIComponent(name)}${extra}`

async function askJson(emulator: Emulator, path: string): Promise<any> {
  const reply = await ask(emulator, path)
  expect(reply.status, reply.body).toBe(200)
  return JSON.parse(reply.body)
}

const errorCode = (promise: Promise<unknown>) =>
  promise.then(
    () => 'answered',
    (error: NodeJS.ErrnoException) => error.code,
  )

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

describe('secrets', () => {
  it('answers a string secret in the layer shape, with nulls for absent fields', async () => {
    const emulator = await emulate()
    const reply = await ask(emulator, secret('prod/plain'))
    expect(reply.status).toBe(200)
    const body = JSON.parse(reply.body)
    expect(Object.keys(body)).toEqual([
      'ARN',
      'CreatedDate',
      'Name',
      'SecretBinary',
      'SecretString',
      'VersionId',
      'VersionStages',
      'ResultMetadata',
    ])
    expect(body).toMatchObject({
      Name: 'prod/plain',
      SecretBinary: null,
      SecretString: 'a string secret',
      VersionStages: ['AWSCURRENT'],
      ResultMetadata: {},
    })
    expect(body.ARN).toMatch(
      /^arn:aws:secretsmanager:us-east-1:123456789012:secret:prod\/plain-[A-Za-z0-9]{6}$/,
    )
    expect(body.VersionId).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/)
    expect(new Date(body.CreatedDate).toString()).not.toBe('Invalid Date')
  })

  it('keeps version ids and ARNs stable across emulators', async () => {
    const first = await askJson(await emulate(), secret('prod/plain'))
    const second = await askJson(await emulate(), secret('prod/plain'))
    expect(second.VersionId).toBe(first.VersionId)
    expect(second.ARN).toBe(first.ARN)
  })

  it('serializes a json secret into SecretString', async () => {
    const body = await askJson(await emulate(), secret('prod/db'))
    expect(JSON.parse(body.SecretString)).toEqual({ username: 'app', password: 'pw<&>' })
  })

  it('answers a binary secret as base64 with a null SecretString', async () => {
    const body = await askJson(await emulate(), secret('prod/cert'))
    expect(body.SecretBinary).toBe('AAECAw==')
    expect(body.SecretString).toBeNull()
  })

  it('answers AWSCURRENT by default and other stages on request', async () => {
    const emulator = await emulate()
    const current = await askJson(emulator, secret('prod/api-key'))
    expect(current).toMatchObject({ SecretString: 'new-key', VersionId: 'explicit-current' })
    const previous = await askJson(emulator, secret('prod/api-key', '&versionStage=AWSPREVIOUS'))
    expect(previous).toMatchObject({ SecretString: 'old-key', VersionStages: ['AWSPREVIOUS'] })
    const pending = await askJson(emulator, secret('prod/api-key', '&versionStage=AWSPENDING'))
    expect(pending.SecretString).toBe('{"k":1}')
  })

  it('finds a version by id, and by id and stage only when both name the same version', async () => {
    const emulator = await emulate()
    const byId = await askJson(emulator, secret('prod/api-key', `&versionId=explicit-current`))
    expect(byId.SecretString).toBe('new-key')
    const both = await ask(
      emulator,
      secret('prod/api-key', '&versionId=explicit-current&versionStage=AWSCURRENT'),
    )
    expect(both.status).toBe(200)
    const mismatch = await ask(
      emulator,
      secret('prod/api-key', '&versionId=explicit-current&versionStage=AWSPREVIOUS'),
    )
    expect(mismatch).toMatchObject({ status: 400, body: upstreamErrorBody })
  })

  it('answers an unknown stage or version id with the generic 400', async () => {
    const emulator = await emulate()
    for (const extra of ['&versionStage=NOPE', '&versionId=nope']) {
      expect(await ask(emulator, secret('prod/api-key', extra))).toMatchObject({
        status: 400,
        body: upstreamErrorBody,
      })
    }
  })

  it('finds a secret by the full ARN it reports, and not by a wrong suffix', async () => {
    const emulator = await emulate()
    const { ARN } = await askJson(emulator, secret('prod/db'))
    const byArn = await askJson(emulator, secret(ARN))
    expect(byArn.Name).toBe('prod/db')
    const wrong = await ask(emulator, secret(`${ARN.slice(0, -6)}AAAAAA`))
    expect(wrong.status).toBe(400)
  })

  it('uses the region and account of the options in ARNs', async () => {
    const emulator = await emulate({ region: 'eu-west-1', accountId: '210987654321' })
    const body = await askJson(emulator, secret('prod/plain'))
    expect(body.ARN).toMatch(/^arn:aws:secretsmanager:eu-west-1:210987654321:secret:prod\/plain-/)
    expect(await askJson(emulator, secret(body.ARN))).toMatchObject({ Name: 'prod/plain' })
  })
})

describe('parameters', () => {
  it('answers a String parameter in the layer shape', async () => {
    const reply = await ask(await emulate(), parameter('/app/url'))
    const body = JSON.parse(reply.body)
    expect(Object.keys(body)).toEqual(['Parameter', 'ResultMetadata'])
    expect(Object.keys(body.Parameter)).toEqual([
      'ARN',
      'DataType',
      'LastModifiedDate',
      'Name',
      'Selector',
      'SourceResult',
      'Type',
      'Value',
      'Version',
    ])
    expect(body).toEqual({
      Parameter: {
        ARN: 'arn:aws:ssm:us-east-1:123456789012:parameter/app/url',
        DataType: 'text',
        LastModifiedDate: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/),
        Name: '/app/url',
        Selector: null,
        SourceResult: null,
        Type: 'String',
        Value: 'https://example.com',
        Version: 1,
      },
      ResultMetadata: {},
    })
  })

  it('joins a StringList with commas', async () => {
    const body = await askJson(await emulate(), parameter('/app/hosts'))
    expect(body.Parameter).toMatchObject({ Type: 'StringList', Value: 'a,b' })
  })

  it('answers a SecureString without decryption with a ciphertext that does not reveal the value', async () => {
    const emulator = await emulate()
    const encrypted = (await askJson(emulator, parameter('/app/key'))).Parameter
    expect(encrypted.Type).toBe('SecureString')
    expect(encrypted.Value).toMatch(/^AQICAHi[A-Za-z0-9+/]+=*$/)
    expect(encrypted.Value).not.toContain('param-secret-value')
    expect(Buffer.from(encrypted.Value, 'base64').toString('latin1')).not.toContain('param-secret-value')
    expect(encrypted.Value).not.toContain(Buffer.from('param-secret-value').toString('base64').slice(0, 12))
    const clear = (await askJson(emulator, parameter('/app/key', '&withDecryption=true'))).Parameter
    expect(clear.Value).toBe('param-secret-value')
  })

  it('answers the last version by default, a version or a label on request, with a Selector', async () => {
    const emulator = await emulate()
    expect((await askJson(emulator, parameter('/app/flags'))).Parameter).toMatchObject({
      Value: '{"a":3}',
      Version: 3,
      Selector: null,
    })
    expect((await askJson(emulator, parameter('/app/flags', '&version=1'))).Parameter).toMatchObject({
      Value: '{"a":1}',
      Version: 1,
      Selector: ':1',
    })
    expect((await askJson(emulator, parameter('/app/flags', '&label=Prod'))).Parameter).toMatchObject({
      Value: '{"a":2}',
      Version: 2,
      Selector: ':Prod',
    })
  })

  it('honours only the first of version and label', async () => {
    const emulator = await emulate()
    const versionFirst = await askJson(emulator, parameter('/app/flags', '&version=1&label=Prod'))
    expect(versionFirst.Parameter).toMatchObject({ Version: 1, Selector: ':1' })
    const labelFirst = await askJson(emulator, parameter('/app/flags', '&label=Prod&version=1'))
    expect(labelFirst.Parameter).toMatchObject({ Version: 2, Selector: ':Prod' })
  })

  it('answers an unknown version or label with the generic 400', async () => {
    const emulator = await emulate()
    for (const extra of ['&version=4', '&version=0', '&version=abc', '&label=Nope']) {
      expect(await ask(emulator, parameter('/app/flags', extra))).toMatchObject({
        status: 400,
        body: upstreamErrorBody,
      })
    }
  })

  it('reports the data type', async () => {
    const body = await askJson(await emulate(), parameter('/app/datatype'))
    expect(body.Parameter).toMatchObject({ DataType: 'aws:ec2:image', Value: 'ami-123' })
  })

  it('answers on the path with a trailing slash too', async () => {
    const reply = await ask(await emulate(), '/systemsmanager/parameters/get/?name=%2Fapp%2Furl')
    expect(reply.status).toBe(200)
  })

  it('finds a parameter by its ARN', async () => {
    const emulator = await emulate()
    const byArn = await askJson(emulator, parameter('arn:aws:ssm:us-east-1:123456789012:parameter/app/url'))
    expect(byArn.Parameter.Name).toBe('/app/url')
    const withoutSlash = await askJson(
      emulator,
      parameter('arn:aws:ssm:us-east-1:123456789012:parameter/plain'),
    )
    expect(withoutSlash.Parameter).toMatchObject({
      Name: 'plain',
      ARN: 'arn:aws:ssm:us-east-1:123456789012:parameter/plain',
    })
  })
})

describe('secrets read through Parameter Store', () => {
  const reference = (secretId: string, extra = '') =>
    parameter(`/aws/reference/secretsmanager/${secretId}`, `&withDecryption=true${extra}`)

  it('answers a SecureString at version 0 carrying the secret and its source', async () => {
    const emulator = await emulate()
    const own = await askJson(emulator, secret('prod/db'))
    const { Parameter } = await askJson(emulator, reference('prod/db'))
    expect(Parameter).toMatchObject({
      ARN: own.ARN,
      DataType: null,
      LastModifiedDate: own.CreatedDate,
      Name: '/aws/reference/secretsmanager/prod/db',
      Selector: null,
      Type: 'SecureString',
      Value: own.SecretString,
      Version: 0,
    })
    expect(JSON.parse(Parameter.SourceResult)).toMatchObject({
      ARN: own.ARN,
      name: 'prod/db',
      versionId: own.VersionId,
      secretString: own.SecretString,
      versionStages: ['AWSCURRENT'],
    })
  })

  it('requires withDecryption=true', async () => {
    const emulator = await emulate()
    const reply = await ask(emulator, parameter('/aws/reference/secretsmanager/prod/db'))
    expect(reply).toMatchObject({ status: 400, body: upstreamErrorBody })
  })

  it('takes a label as the version stage', async () => {
    const { Parameter } = await askJson(await emulate(), reference('prod/api-key', '&label=AWSPREVIOUS'))
    expect(Parameter).toMatchObject({ Value: 'old-key', Selector: ':AWSPREVIOUS' })
  })

  it('answers a binary secret with a null Value and its bytes only in SourceResult', async () => {
    const { Parameter } = await askJson(await emulate(), reference('prod/cert'))
    expect(Parameter.Value).toBeNull()
    expect(JSON.parse(Parameter.SourceResult).secretBinary.hb).toEqual([0, 1, 2, 3])
  })

  it('answers a denied or unknown secret with the generic 400', async () => {
    const emulator = await emulate()
    for (const name of ['prod/forbidden', 'prod/missing']) {
      expect(await ask(emulator, reference(name))).toMatchObject({ status: 400, body: upstreamErrorBody })
    }
  })
})

describe('wire format', () => {
  it("escapes <, > and & like Go's encoder, and the JSON parses back", async () => {
    const reply = await ask(await emulate(), secret('prod/db'))
    expect(reply.body).not.toMatch(/[<>&]/)
    expect(reply.body).toContain('\\u003c\\u0026\\u003e')
    expect(JSON.parse(JSON.parse(reply.body).SecretString).password).toBe('pw<&>')
  })

  it('sends plain-text error bodies', async () => {
    const reply = await ask(await emulate(), secret('prod/missing'))
    expect(reply.headers['content-type']).toMatch(/^text\/plain/)
    expect(reply.body).toBe(upstreamErrorBody)
  })

  it('exports the exact bodies of the layer', () => {
    expect(notReadyBody).toBe('not ready to serve traffic, please wait')
    expect(upstreamErrorBody).toBe('an unexpected error occurred while executing request')
  })
})

describe('requests the layer refuses', () => {
  it('answers 403 Bad Token without a token or with an empty one', async () => {
    const emulator = await emulate()
    expect(await ask(emulator, secret('prod/plain'), { token: null })).toMatchObject({
      status: 403,
      body: 'Bad Token',
    })
    expect(await ask(emulator, secret('prod/plain'), { token: '' })).toMatchObject({
      status: 403,
      body: 'Bad Token',
    })
  })

  it('accepts any non-empty token when none is configured', async () => {
    const emulator = await emulate()
    expect(emulator.token).toBeUndefined()
    expect((await ask(emulator, secret('prod/plain'), { token: 'anything' })).status).toBe(200)
  })

  it('accepts only the configured token when one is set', async () => {
    const emulator = await emulate({ token })
    expect(emulator.token).toBe(token)
    expect(await ask(emulator, secret('prod/plain'), { token: 'other' })).toMatchObject({ status: 403 })
    expect(await ask(emulator, secret('prod/plain'), { token: `${token}x` })).toMatchObject({ status: 403 })
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

  it('answers 400 Forwarded when X-Forwarded-For is present', async () => {
    const reply = await ask(await emulate(), secret('prod/plain'), {
      headers: { 'X-Forwarded-For': '10.0.0.1' },
    })
    expect(reply).toMatchObject({ status: 400, body: 'Forwarded' })
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
  it('serves stale values after a rotation until the cache is cleared', async () => {
    const emulator = await emulate({ values: { secrets: { rotating: 'first' } } })
    expect((await askJson(emulator, secret('rotating'))).SecretString).toBe('first')
    emulator.setValues({ secrets: { rotating: 'second' } })
    expect((await askJson(emulator, secret('rotating'))).SecretString).toBe('first')
    expect(emulator.requests.map((request) => request.cached)).toEqual([false, true])
    emulator.clearCache()
    expect((await askJson(emulator, secret('rotating'))).SecretString).toBe('second')
  })

  it('serves fresh values once the TTL has passed', async () => {
    const emulator = await emulate({ values: { secrets: { rotating: 'first' } }, cacheTtlMs: 40 })
    await askJson(emulator, secret('rotating'))
    emulator.setValues({ secrets: { rotating: 'second' } })
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
    const emulator = await emulate({ values: { secrets: { rotating: 'first' } }, cacheTtlMs: 0 })
    await askJson(emulator, secret('rotating'))
    emulator.setValues({ secrets: { rotating: 'second' } })
    expect((await askJson(emulator, secret('rotating'))).SecretString).toBe('second')
  })

  it('still checks the token before answering from the cache', async () => {
    const emulator = await emulate({ token })
    await askJson(emulator, secret('prod/plain'))
    expect((await ask(emulator, secret('prod/plain'), { token: 'stolen' })).status).toBe(403)
  })
})

describe('faults', () => {
  it('refuses connections during a refuse window, then serves on the same port', async () => {
    const emulator = await emulate({ faults: [{ action: 'refuse', forMs: 150 }] })
    const port = emulator.port
    expect(await errorCode(ask(emulator, secret('prod/plain')))).toBe('ECONNREFUSED')
    await sleep(200)
    expect(emulator.port).toBe(port)
    expect((await ask(emulator, secret('prod/plain'))).status).toBe(200)
  })

  it('refuses later when setFaults adds a window, including overlapping windows', async () => {
    const emulator = await emulate()
    expect((await ask(emulator, secret('prod/plain'))).status).toBe(200)
    emulator.setFaults([
      { action: 'refuse', afterMs: 40, forMs: 150 },
      { action: 'refuse', afterMs: 120, forMs: 150 },
    ])
    expect((await ask(emulator, secret('prod/plain'))).status).toBe(200)
    await sleep(70)
    expect(await errorCode(ask(emulator, secret('prod/plain')))).toBe('ECONNREFUSED')
    await sleep(150)
    expect(await errorCode(ask(emulator, secret('prod/plain')))).toBe('ECONNREFUSED')
    await sleep(90)
    expect((await ask(emulator, secret('prod/plain'))).status).toBe(200)
  })

  it('drops idle keep-alive connections when a refuse window opens', async () => {
    const emulator = await emulate()
    const agent = new Agent({ keepAlive: true })
    try {
      expect((await ask(emulator, secret('prod/plain'), { agent })).status).toBe(200)
      emulator.setFaults([{ action: 'refuse', forMs: 100 }])
      await sleep(10)
      expect(await errorCode(ask(emulator, secret('prod/plain'), { agent }))).toBe('ECONNREFUSED')
    } finally {
      agent.destroy()
    }
  })

  it('resets the connection without an answer', async () => {
    const emulator = await emulate({ faults: [{ action: 'reset' }] })
    expect(await errorCode(ask(emulator, secret('prod/plain')))).toBe('ECONNRESET')
    expect(emulator.requests[0]).toMatchObject({ outcome: 'reset' })
    expect(emulator.requests[0]?.status).toBeUndefined()
  })

  it('hangs until the emulator closes', async () => {
    const emulator = await emulate({ faults: [{ action: 'hang' }] })
    const pending = errorCode(ask(emulator, secret('prod/plain')))
    await sleep(50)
    expect(emulator.requests[0]).toMatchObject({ outcome: 'hang' })
    const closedAt = performance.now()
    await emulator.close()
    expect(performance.now() - closedAt).toBeLessThan(500)
    expect(await pending).toMatch(/^E/)
  })

  it('answers not ready', async () => {
    const emulator = await emulate({ faults: [{ action: 'not-ready' }] })
    expect(await ask(emulator, secret('prod/plain'))).toMatchObject({ status: 400, body: notReadyBody })
    expect(emulator.requests[0]).toMatchObject({ outcome: 'not-ready', status: 400 })
  })

  it('responds with the given status and body', async () => {
    const emulator = await emulate({
      faults: [{ action: 'respond', status: 429, body: 'Connection limit exceeded' }],
    })
    expect(await ask(emulator, secret('prod/plain'))).toMatchObject({
      status: 429,
      body: 'Connection limit exceeded',
    })
    expect(emulator.requests[0]).toMatchObject({ outcome: 'status', status: 429 })
  })

  it('delays, then lets later rules act', async () => {
    const emulator = await emulate({
      faults: [
        { action: 'delay', ms: 80 },
        { action: 'not-ready', times: 1 },
      ],
    })
    const startedAt = performance.now()
    expect(await ask(emulator, secret('prod/plain'))).toMatchObject({ status: 400, body: notReadyBody })
    expect(performance.now() - startedAt).toBeGreaterThanOrEqual(75)
    const again = performance.now()
    expect((await ask(emulator, secret('prod/plain'))).status).toBe(200)
    expect(performance.now() - again).toBeGreaterThanOrEqual(75)
  })

  it('applies a rule to its first N matching requests only', async () => {
    const emulator = await emulate({ faults: [{ action: 'not-ready', times: 2 }] })
    const statuses = []
    for (let attempt = 0; attempt < 3; attempt++)
      statuses.push((await ask(emulator, secret('prod/plain'))).status)
    expect(statuses).toEqual([400, 400, 200])
  })

  it('applies a rule only within its afterMs and forMs window', async () => {
    const emulator = await emulate({ faults: [{ action: 'not-ready', afterMs: 50, forMs: 100 }] })
    expect((await ask(emulator, secret('prod/plain'))).status).toBe(200)
    await sleep(90)
    expect((await ask(emulator, secret('prod/plain'))).body).toBe(notReadyBody)
    await sleep(100)
    expect((await ask(emulator, secret('prod/plain'))).status).toBe(200)
  })

  it('matches rules by service and name', async () => {
    const emulator = await emulate({
      faults: [
        {
          action: 'respond',
          status: 500,
          body: 'secret fault',
          match: { service: 'secret', name: 'prod/db' },
        },
        { action: 'respond', status: 502, body: 'parameter fault', match: { service: 'parameter' } },
      ],
    })
    expect((await ask(emulator, secret('prod/db'))).status).toBe(500)
    expect((await ask(emulator, secret('prod/plain'))).status).toBe(200)
    expect((await ask(emulator, parameter('/app/url'))).status).toBe(502)
  })

  it('restarts the clock and the counters on setFaults', async () => {
    const emulator = await emulate({ faults: [{ action: 'not-ready', times: 1 }] })
    expect((await ask(emulator, secret('prod/plain'))).status).toBe(400)
    expect((await ask(emulator, secret('prod/plain'))).status).toBe(200)
    emulator.setFaults([{ action: 'not-ready', times: 1 }])
    expect((await ask(emulator, secret('prod/plain'))).status).toBe(400)
    await sleep(50)
    emulator.setFaults([{ action: 'not-ready', forMs: 40 }])
    expect((await ask(emulator, secret('prod/plain'))).status).toBe(400)
    emulator.setFaults([])
    expect((await ask(emulator, secret('prod/plain'))).status).toBe(200)
  })

  it('rejects invalid rules with the index of the rule', async () => {
    await expect(startEmulator({ faults: [{ action: 'boom' } as never] })).rejects.toThrow(
      /^faults\[0\]\.action: unknown action "boom"/,
    )
    await expect(startEmulator({ faults: [{ action: 'refuse', times: 1 } as never] })).rejects.toThrow(
      /^faults\[0\]\.times: not supported by "refuse"/,
    )
    const emulator = await emulate()
    expect(() =>
      emulator.setFaults([{ action: 'hang' }, { action: 'reset' }, { action: 'respond', status: 42 }]),
    ).toThrow(/^faults\[2\]\.status: expected an integer from 200 to 599$/)
    expect(() => emulator.setFaults([{ action: 'delay' } as never])).toThrow(/^faults\[0\]\.ms:/)
    expect(() => emulator.setFaults([{ action: 'reset', match: { service: 'kms' } } as never])).toThrow(
      /^faults\[0\]\.match\.service:/,
    )
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
      status: 200,
      cached: false,
    })
    expect(emulator.requests[4]).toMatchObject({
      tokenPresent: true,
      tokenAccepted: false,
      outcome: 'error',
      status: 403,
    })
    const recorded = JSON.stringify(emulator.requests)
    for (const secretText of [token, 'wrong-token', 'a string secret', 'pw', 'param-secret-value']) {
      expect(recorded).not.toContain(secretText)
    }
  })
})

describe('options and values', () => {
  it('reports the first invalid value with its path', () => {
    const cases: [unknown, RegExp][] = [
      [
        { parameters: { '/a': { type: 'Text', value: 'x' } } },
        /^parameters\["\/a"\]\.type: expected String, StringList or SecureString$/,
      ],
      [{ parameters: { '/a': { value: ['x'] } } }, /^parameters\["\/a"\]\.value: expected a string$/],
      [
        { parameters: { '/a': { versions: ['x'], labels: { Prod: 2 } } } },
        /^parameters\["\/a"\]\.labels\["Prod"\]/,
      ],
      [
        { parameters: { '/a': { value: 'x', versions: ['y'] } } },
        /^parameters\["\/a"\]: expected exactly one of/,
      ],
      [
        { secrets: { s: { versions: [{ stages: ['AWSPREVIOUS'], string: 'x' }] } } },
        /^secrets\["s"\]\.versions: .*AWSCURRENT/,
      ],
      [
        { secrets: { s: { string: 'x', binary: 'AA==' } } },
        /^secrets\["s"\]: expected exactly one of string, json or binary$/,
      ],
      [{ secrets: { s: { binary: 'not base64!' } } }, /^secrets\["s"\]\.binary: expected a base64 string$/],
      [
        {
          secrets: {
            s: {
              versions: [
                { stages: ['AWSCURRENT'], string: 'x' },
                { stages: ['AWSCURRENT'], string: 'y' },
              ],
            },
          },
        },
        /^secrets\["s"\]\.versions\[1\]\.stages: stage "AWSCURRENT" is already on versions\[0\]$/,
      ],
      [{ denied: ['ok', 3] }, /^denied\[1\]: expected a non-empty string$/],
      [{ secret: {} }, /^secret: unknown key/],
      [[], /^values: expected an object$/],
    ]
    for (const [input, message] of cases) expect(() => validateValues(input)).toThrow(message)
    expect(validateValues(values)).toBe(values)
  })

  it('rejects invalid values and options when starting and when rotating', async () => {
    await expect(startEmulator({ values: { parameters: { '/a': 3 as never } } })).rejects.toThrow(
      /^values\.parameters\["\/a"\]: expected a string or an object$/,
    )
    await expect(startEmulator({ host: '0.0.0.0' })).rejects.toThrow(TypeError)
    await expect(startEmulator({ host: '192.168.1.1' })).rejects.toThrow(/^host: expected a loopback address/)
    await expect(startEmulator({ port: -1 })).rejects.toThrow(/^port:/)
    await expect(startEmulator({ tokn: 'x' } as never)).rejects.toThrow(/^tokn: unknown key/)
    const emulator = await emulate()
    expect(() => emulator.setValues({ secrets: { s: {} } })).toThrow(/^values\.secrets\["s"\]/)
    expect((await ask(emulator, secret('prod/plain'))).status).toBe(200)
  })

  it('listens on the loopback URL it reports', async () => {
    const emulator = await emulate()
    expect(emulator.url).toBe(`http://127.0.0.1:${emulator.port}`)
    expect(emulator.port).toBeGreaterThan(0)
  })
})

describe('connections', () => {
  it('keeps connections alive between requests', async () => {
    const emulator = await emulate()
    const agent = new Agent({ keepAlive: true, maxSockets: 1 })
    try {
      const first = await ask(emulator, secret('prod/plain'), { agent })
      const second = await ask(emulator, secret('prod/db'), { agent })
      expect(first.headers.connection).toBe('keep-alive')
      expect(second.status).toBe(200)
      expect(emulator.requests.map((request) => request.headers.includes('connection'))).toEqual([true, true])
    } finally {
      agent.destroy()
    }
  })

  it('closes without waiting for hanging or delayed requests, and leaves no open handles', async () => {
    const counts = () => {
      const names = process.getActiveResourcesInfo()
      return {
        handles: names.filter((name) => name === 'TCPServerWrap' || name === 'TCPSocketWrap').length,
        timers: names.filter((name) => name === 'Timeout').length,
      }
    }
    // Sockets of earlier tests may still be closing: wait until the counts settle, then take them.
    const settled = async () => {
      let last = JSON.stringify(counts())
      for (let i = 0; i < 100; i++) {
        await sleep(20)
        const now = JSON.stringify(counts())
        if (now === last) return JSON.parse(now) as ReturnType<typeof counts>
        last = now
      }
      return JSON.parse(last) as ReturnType<typeof counts>
    }
    const before = await settled()
    const emulator = await startEmulator({
      values,
      faults: [
        { action: 'refuse', afterMs: 10_000 },
        { action: 'delay', ms: 10_000, match: { name: 'prod/db' } },
        { action: 'hang', match: { name: 'prod/plain' } },
      ],
    })
    const hanging = errorCode(ask(emulator, secret('prod/plain')))
    const delayed = errorCode(ask(emulator, secret('prod/db')))
    await sleep(30)
    const closedAt = performance.now()
    await emulator.close()
    await emulator.close()
    // The delay rule would hold the request for 10 s: close() must not wait for it.
    expect(performance.now() - closedAt).toBeLessThan(5_000)
    await Promise.all([hanging, delayed])
    // Other tests' timers and sockets may end meanwhile: what matters is that nothing was added.
    const after = await settled()
    expect(after.handles).toBeLessThanOrEqual(before.handles)
    expect(after.timers).toBeLessThanOrEqual(before.timers)
    expect(await errorCode(ask(emulator, secret('prod/plain')))).toBe('ECONNREFUSED')
  })
})
