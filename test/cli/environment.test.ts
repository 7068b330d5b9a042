import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { request } from 'node:http'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, test } from 'vitest'
import { parseCommandLine, UsageError } from '../../src/cli/args.js'
import { fixtureValues, secretMarker, testToken } from '../helpers.js'
import { portOf, useCli } from './run-cli.js'

// The layer's own environment variables drive the command; its log lines say what each request met.

const start = useCli()
let dir: string
let valuesPath: string

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'emulator-env-'))
  valuesPath = join(dir, 'values.json')
  await writeFile(valuesPath, JSON.stringify(fixtureValues))
})
afterEach(async () => {
  await rm(dir, { recursive: true, force: true })
})

const run = (env: Record<string, string>, args: string[] = []) => {
  const command = parseCommandLine(['--values', 'v.json', ...args], env)
  if (command.kind !== 'run') throw new Error('expected a run')
  return command.options
}

describe("the layer's variables", () => {
  test('map one to one onto the options', () => {
    const options = run({
      SECRETS_MANAGER_TTL: '60',
      SSM_PARAMETER_STORE_TTL: '0',
      PARAMETERS_SECRETS_EXTENSION_CACHE_ENABLED: 'FALSE',
      PARAMETERS_SECRETS_EXTENSION_CACHE_SIZE: '10',
      PARAMETERS_SECRETS_EXTENSION_MAX_CONNECTIONS: '5',
      SECRETS_MANAGER_TIMEOUT_MILLIS: '1000',
      SSM_PARAMETER_STORE_TIMEOUT_MILLIS: '0',
      PARAMETERS_SECRETS_EXTENSION_LOG_LEVEL: 'DEBUG',
      PARAMETERS_SECRETS_EXTENSION_HTTP_PORT: '2999',
    })
    expect(options.settings).toEqual({
      secretsManagerTtl: 60,
      ssmParameterStoreTtl: 0,
      cacheEnabled: false,
      cacheSize: 10,
      maxConnections: 5,
      secretsManagerTimeoutMillis: 1000,
      ssmParameterStoreTimeoutMillis: 0,
      logLevel: 'debug',
    })
    expect(options.port).toBe(2999)
  })

  test('flags win over variables', () => {
    const options = run(
      { PARAMETERS_SECRETS_EXTENSION_LOG_LEVEL: 'DEBUG', PARAMETERS_SECRETS_EXTENSION_HTTP_PORT: '2999' },
      ['--log-level', 'warn', '--port', '0'],
    )
    expect(options.settings.logLevel).toBe('warn')
    expect(options.port).toBe(0)
  })

  test.each([
    [{ SECRETS_MANAGER_TTL: '5m' }, 'SECRETS_MANAGER_TTL: expected a whole number of seconds, got "5m"'],
    [
      { PARAMETERS_SECRETS_EXTENSION_CACHE_ENABLED: 'yes' },
      'PARAMETERS_SECRETS_EXTENSION_CACHE_ENABLED: expected TRUE or FALSE, got "yes"',
    ],
    [
      { PARAMETERS_SECRETS_EXTENSION_LOG_LEVEL: 'LOUD' },
      'PARAMETERS_SECRETS_EXTENSION_LOG_LEVEL: expected DEBUG, INFO, WARN, ERROR or NONE, got "LOUD"',
    ],
    [
      { PARAMETERS_SECRETS_EXTENSION_HTTP_PORT: '0' },
      'PARAMETERS_SECRETS_EXTENSION_HTTP_PORT: expected a port from 1 to 65535, got "0"',
    ],
  ])('refuses %j', (env, message) => {
    expect(() => run(env)).toThrow(new UsageError(message))
  })

  test('--cache-ttl-ms is gone, and says where its job went', () => {
    expect(() => run({}, ['--cache-ttl-ms', '0'])).toThrow(/SECRETS_MANAGER_TTL and SSM_PARAMETER_STORE_TTL/)
  })

  test('a TTL above 300 is clamped with the WARN line; a cache size above 1000 stops the start, naming the variable', async () => {
    const cli = start(['--values', valuesPath, '--port', '0'], dir, { SECRETS_MANAGER_TTL: '900' })
    await portOf(cli)
    expect(cli.stdout()).toContain(
      '[AWS Parameters and Secrets Lambda Extension] WARN SECRETS_MANAGER_TTL is 900, above the maximum of 300 seconds: using 300',
    )
    const refused = start(['--values', valuesPath, '--port', '0'], dir, {
      PARAMETERS_SECRETS_EXTENSION_CACHE_SIZE: '5000',
    })
    expect(await refused.exited).toEqual({ code: 1, signal: null })
    expect(refused.stderr()).toBe(
      'extension-secrets-emulator: PARAMETERS_SECRETS_EXTENSION_CACHE_SIZE: expected an integer from 0 to 1000\n',
    )
  })
})

describe('diagnostics of the command', () => {
  test('logs one line per request, with its outcome and never a value or the token', async () => {
    const cli = start(['--values', valuesPath, '--port', '0'])
    const port = await portOf(cli)
    await get(port, '/secretsmanager/get?secretId=prod%2Fplain')
    await get(port, '/secretsmanager/get?secretId=prod%2Fplain')
    await get(port, '/secretsmanager/get?secretId=prod%2Fmissing')
    await get(
      port,
      `/systemsmanager/parameters/get?name=%2Fapp%2Fsigning-key&withDecryption=true&x=${testToken}`,
    )
    await get(port, '/secretsmanager/get?secretId=prod%2Fplain', '')
    await cli.waitFor(/bad token \(401\)/)
    const lines = cli
      .stdout()
      .split('\n')
      .filter((line) => line.startsWith('[AWS Parameters'))
    expect(lines).toEqual([
      '[AWS Parameters and Secrets Lambda Extension] INFO GetSecretValue "prod/plain": miss',
      '[AWS Parameters and Secrets Lambda Extension] INFO GetSecretValue "prod/plain": hit',
      expect.stringMatching(
        /^\[AWS Parameters and Secrets Lambda Extension\] ERROR GetSecretValue request encountered an error: .*ResourceNotFoundException.*"prod\/missing": unknown name\)$/,
      ),
      '[AWS Parameters and Secrets Lambda Extension] INFO GetParameter "/app/signing-key" withDecryption="true": miss',
      '[AWS Parameters and Secrets Lambda Extension] WARN GET "/secretsmanager/get": bad token (401)',
    ])
    expect(cli.output()).not.toContain(testToken)
    expect(cli.output()).not.toContain(secretMarker)
  })

  test('--log-level none prints no request line', async () => {
    const cli = start(['--values', valuesPath, '--port', '0', '--log-level', 'none'])
    const port = await portOf(cli)
    await get(port, '/secretsmanager/get?secretId=prod%2Fplain')
    cli.child.kill('SIGTERM')
    await cli.exited
    expect(cli.stdout()).not.toContain('[AWS Parameters')
  })

  test('SIGHUP rehearses a cold start again: the cache is emptied and the not-ready window starts over', async () => {
    const cli = start(['--values', valuesPath, '--port', '0', '--not-ready-ms', '300'])
    const port = await portOf(cli)
    expect((await get(port, '/secretsmanager/get?secretId=prod%2Fplain')).status).toBe(400)
    await new Promise((resolve) => setTimeout(resolve, 350))
    expect((await get(port, '/secretsmanager/get?secretId=prod%2Fplain')).status).toBe(200)
    cli.child.kill('SIGHUP')
    await cli.waitFor(/cold start: cache emptied, --refuse-ms and --not-ready-ms start over/)
    expect((await get(port, '/secretsmanager/get?secretId=prod%2Fplain')).status).toBe(400)
    await new Promise((resolve) => setTimeout(resolve, 350))
    expect((await get(port, '/secretsmanager/get?secretId=prod%2Fplain')).status).toBe(200)
    // The command's log line travels through a pipe: it may arrive just after the answer.
    await cli.waitFor(/GetSecretValue "prod\/plain": miss/, 2)
    expect(cli.stdout().match(/GetSecretValue "prod\/plain": miss/g)).toHaveLength(2)
  })

  test('--flavour agent answers as the Secrets Manager Agent', async () => {
    const cli = start(['--values', valuesPath, '--port', '0', '--flavour', 'agent', '--token', testToken])
    const port = await portOf(cli)
    expect(cli.stdout()).toContain('as the Secrets Manager Agent')
    expect(await get(port, '/ping', '')).toEqual({ status: 200, body: 'healthy' })
    expect(await get(port, '/secretsmanager/get?secretId=prod%2Fplain', 'wrong')).toEqual({
      status: 403,
      body: 'Bad Token',
    })
  })
})

function get(port: number, path: string, token = testToken): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: '127.0.0.1',
        port,
        path,
        headers: token ? { 'x-aws-parameters-secrets-token': token } : {},
        agent: false,
      },
      (res) => {
        let body = ''
        res.setEncoding('utf8').on('data', (chunk: string) => {
          body += chunk
        })
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }))
      },
    )
    req.on('error', reject)
    req.end()
  })
}
