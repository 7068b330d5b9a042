import { describe, expect, it } from 'vitest'
import { notReadyBody, upstreamErrorBody } from '../../src/emulator/index.js'
import { ask, askJson, emulate, parameter, secret } from './helpers.js'

// Answers for each endpoint, selector and value kind, in the layer's wire format.

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
