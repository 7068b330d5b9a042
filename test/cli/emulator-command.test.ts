import { mkdtemp, rename, rm, writeFile } from 'node:fs/promises'
import { request } from 'node:http'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, test } from 'vitest'
import { parseCommandLine, UsageError } from '../../src/cli/args.js'
import { notReadyBody } from '../../src/emulator/index.js'
import { failureOf, fixtureValues, lambdaContext, secretMarker, testToken, urlHandler } from '../helpers.js'
import { portOf, useCli } from './run-cli.js'

const start = useCli()
let dir: string
let valuesPath: string

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'emulator-cli-'))
  valuesPath = join(dir, 'values.json')
  await writeFile(valuesPath, JSON.stringify(fixtureValues))
})
afterEach(async () => {
  await rm(dir, { recursive: true, force: true })
})

const withUrl = (url: string) =>
  JSON.stringify({ ...fixtureValues, parameters: { ...fixtureValues.parameters, '/app/api-url': url } })

/** Reads `/app/api-url` through a real middy chain, as a handler would. */
const readUrl = (port: number, token = testToken) => urlHandler(port, { token })({}, lambdaContext())

const expectNothingSecret = (output: string) => {
  expect(output).not.toContain(testToken)
  expect(output).not.toContain(secretMarker)
}

describe('serving a values file', () => {
  test('serves the file to the middleware, says how to point a handler at it, stops on SIGTERM', async () => {
    const cli = start(['--values', valuesPath, '--port', '0'])
    const port = await portOf(cli)
    await expect(readUrl(port)).resolves.toBe('https://api.example.com')
    expect(cli.stdout()).toContain(`PARAMETERS_SECRETS_EXTENSION_HTTP_PORT=${port}`)
    expect(cli.stdout()).toContain('(5 parameters, 4 secrets)')
    expect(cli.stdout()).not.toMatch(/export AWS_SESSION_TOKEN|AWS_SESSION_TOKEN=[^"]/)
    cli.child.kill('SIGTERM')
    expect(await cli.exited).toEqual({ code: 0, signal: null })
    expect(cli.stdout()).toMatch(/stopped \(SIGTERM\)\n$/)
    expect(cli.stderr()).toBe('')
    expectNothingSecret(cli.output())
  })

  test('stops cleanly on SIGINT', async () => {
    const cli = start(['--values', valuesPath, '--port', '0'])
    await portOf(cli)
    cli.child.kill('SIGINT')
    expect(await cli.exited).toEqual({ code: 0, signal: null })
    expect(cli.stdout()).toMatch(/stopped \(SIGINT\)\n$/)
  })

  test('reloads the file on each change, in place or by an atomic rename, with one line each', async () => {
    const cli = start(['--values', valuesPath, '--port', '0'])
    const port = await portOf(cli)
    await expect(readUrl(port)).resolves.toBe('https://api.example.com')

    await writeFile(valuesPath, withUrl('https://edited-in-place.example.com'))
    await cli.waitFor(/^reloaded .*values\.json: 5 parameters, 4 secrets$/m, 1)
    // The layer's cache would keep the old answer for 300 s; a reload is meant to be seen at once.
    await expect(readUrl(port)).resolves.toBe('https://edited-in-place.example.com')

    // How editors save: write a new file beside it, then rename it over the old one.
    const temporary = join(dir, '.values.json.swp')
    await writeFile(temporary, withUrl('https://renamed-over.example.com'))
    await rename(temporary, valuesPath)
    await cli.waitFor(/^reloaded /m, 2)
    await expect(readUrl(port)).resolves.toBe('https://renamed-over.example.com')

    // Writing the same content again changes nothing, so it prints nothing.
    await writeFile(valuesPath, withUrl('https://renamed-over.example.com'))
    await writeFile(valuesPath, withUrl('https://last.example.com'))
    await cli.waitFor(/^reloaded /m, 3)
    await expect(readUrl(port)).resolves.toBe('https://last.example.com')
    expect(cli.stdout().match(/^reloaded /gm)).toHaveLength(3)
    expect(cli.stderr()).toBe('')
    expectNothingSecret(cli.output())
  })

  test('a broken file keeps the previous values and says why without showing any of its content', async () => {
    const cli = start(['--values', valuesPath, '--port', '0'])
    const port = await portOf(cli)

    await writeFile(valuesPath, `{\n  "parameters": { "/app/api-url": ${secretMarker}-unquoted }\n}`)
    await cli.waitFor(/not reloaded/, 1)
    await expect(readUrl(port)).resolves.toBe('https://api.example.com')

    const badType = { parameters: { '/app/api-url': { type: 'Secure', value: `${secretMarker}-value` } } }
    await writeFile(valuesPath, JSON.stringify(badType))
    await cli.waitFor(/not reloaded/, 2)
    await expect(readUrl(port)).resolves.toBe('https://api.example.com')

    await writeFile(valuesPath, withUrl('https://fixed.example.com'))
    await cli.waitFor(/^reloaded /m)
    await expect(readUrl(port)).resolves.toBe('https://fixed.example.com')

    const errors = cli.stderr().split('\n')
    expect(errors[0]).toMatch(
      new RegExp(
        `^not reloaded, still serving the previous values: ${regexpSource(valuesPath)}: not valid JSON`,
      ),
    )
    expect(errors[1]).toBe(
      `not reloaded, still serving the previous values: ${valuesPath}: parameters["/app/api-url"].type: expected String, StringList or SecureString`,
    )
    expectNothingSecret(cli.output())
  })
})

describe('the token', () => {
  test('by default any non-empty token is accepted and none is printed', async () => {
    const cli = start(['--values', valuesPath, '--port', '0'])
    const port = await portOf(cli)
    await expect(readUrl(port, 'any-other-token')).resolves.toBe('https://api.example.com')
    cli.child.kill('SIGTERM')
    await cli.exited
    expectNothingSecret(cli.output())
  })

  test('--token requires that token, and the output never shows it', async () => {
    const required = `${testToken}-required`
    const cli = start(['--values', valuesPath, '--port', '0', '--token', required])
    const port = await portOf(cli)
    await expect(readUrl(port, required)).resolves.toBe('https://api.example.com')
    const error = await failureOf(() => readUrl(port, 'a-different-token'))
    expect(error.errors?.[0]?.code).toBe('TOKEN_REJECTED')
    cli.child.kill('SIGTERM')
    await cli.exited
    expect(cli.stdout()).toContain('Requests must carry the token given with --token')
    expectNothingSecret(cli.output())
  })
})

describe('rehearsing a cold start', () => {
  test('--refuse-ms refuses connections from the start', async () => {
    const cli = start(['--values', valuesPath, '--port', '0', '--refuse-ms', '600000'])
    const port = await portOf(cli)
    await expect(get(port)).rejects.toMatchObject({ code: 'ECONNREFUSED' })
  })

  test('--not-ready-ms answers not-ready from the start', async () => {
    const cli = start(['--values', valuesPath, '--port', '0', '--not-ready-ms', '600000'])
    const port = await portOf(cli)
    await expect(get(port)).resolves.toEqual({ status: 400, body: notReadyBody })
  })

  test('the middleware waits through a refused, then not-ready start', async () => {
    const cli = start(['--values', valuesPath, '--port', '0', '--refuse-ms', '300', '--not-ready-ms', '300'])
    const port = await portOf(cli)
    const handler = urlHandler(port, { token: testToken, retry: { maxRetryTime: 8_000 } })
    await expect(handler({}, lambdaContext(9_000))).resolves.toBe('https://api.example.com')
    expect(cli.stdout()).toContain('Refusing connections for the first 300 ms.')
    expect(cli.stdout()).toContain('Answering "not ready to serve traffic" then for 300 ms.')
  })
})

describe('mistakes', () => {
  test.each([
    [[], '--values FILE is required'],
    [['--values'], '--values: missing value'],
    [['--values', 'v.json', '--port', 'http'], '--port: expected an integer from 0 to 65535, got "http"'],
    [['--values', 'v.json', '--port', '70000'], '--port: expected an integer from 0 to 65535, got "70000"'],
    [
      ['--values', 'v.json', '--refuse-ms', '-5'],
      '--refuse-ms: missing value (to pass a value starting with "-", write --refuse-ms=VALUE)',
    ],
    [
      ['--values', 'v.json', '--not-ready-ms=1.5'],
      '--not-ready-ms: expected a whole number of milliseconds, got "1.5"',
    ],
    [['--values', 'v.json', '--values', 'w.json'], '--values given twice'],
    [['--values', 'v.json', '--verbose'], 'unknown option --verbose'],
    [['--values', 'v.json', `--tokn=${testToken}`], 'unknown option --tokn'],
    [
      ['--values', 'v.json', '--token', '--port', '1'],
      '--token: missing value (to pass a value starting with "-", write --token=VALUE)',
    ],
    [
      ['--values', 'v.json', testToken],
      'unexpected argument: every value follows its flag, as in --values values.json',
    ],
    [['--help=yes'], '--help takes no value'],
  ])('%j: %s', (args, message) => {
    expect(() => parseCommandLine(args)).toThrow(new UsageError(message))
  })

  test('a mistake on the command line exits 2 with one line naming it, and never echoes a token', async () => {
    const cli = start(['--values', 'v.json', `--tokn=${testToken}`, testToken], dir)
    expect(await cli.exited).toEqual({ code: 2, signal: null })
    expect(cli.stderr()).toBe(
      'extension-secrets-emulator: unknown option --tokn\nRun extension-secrets-emulator --help for usage.\n',
    )
    expect(cli.stdout()).toBe('')
  })

  test.each([
    [['--values', 'missing.json'], 'missing.json: cannot be read (ENOENT)'],
    [
      ['--values', 'v.json', '--host', '10.0.0.1'],
      '--host: expected an IP literal that is loopback (127.x.x.x or ::1), not a name such as localhost: the token must never leave the machine',
    ],
  ])('%j cannot start: %s', async (args, message) => {
    await writeFile(join(dir, 'v.json'), '{}')
    const cli = start(args, dir)
    expect(await cli.exited).toEqual({ code: 1, signal: null })
    expect(cli.stderr()).toBe(`extension-secrets-emulator: ${message}\n`)
  })

  test('a port in use is named', async () => {
    const first = start(['--values', valuesPath, '--port', '0'])
    const port = await portOf(first)
    const second = start(['--values', valuesPath, '--port', String(port)])
    expect(await second.exited).toEqual({ code: 1, signal: null })
    expect(second.stderr()).toBe(
      `extension-secrets-emulator: port ${port} is in use (another emulator or extension?); choose one with --port\n`,
    )
  })

  test('a broken file at start is refused with where it breaks, never what it holds', async () => {
    await writeFile(
      valuesPath,
      `{"secrets": {"prod/db": "${secretMarker}"},\n  "parameters": ${secretMarker}}`,
    )
    const cli = start(['--values', valuesPath])
    expect(await cli.exited).toEqual({ code: 1, signal: null })
    expect(cli.stderr()).toMatch(
      new RegExp(`^extension-secrets-emulator: ${regexpSource(valuesPath)}: not valid JSON`),
    )
    expectNothingSecret(cli.output())
  })

  test('--help prints the usage and exits 0', async () => {
    const cli = start(['--help'])
    expect(await cli.exited).toEqual({ code: 0, signal: null })
    expect(cli.stdout()).toMatch(/^Usage: extension-secrets-emulator --values FILE \[options\]/)
    for (const flag of [
      '--values',
      '--port',
      '--host',
      '--token',
      '--refuse-ms',
      '--not-ready-ms',
      '--flavour',
      '--log-level',
      '--record',
      'SECRETS_MANAGER_TTL',
      'SIGHUP',
    ])
      expect(cli.stdout()).toContain(flag)
  })
})

function regexpSource(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')
}

/** A bare GET to the parameters endpoint, to see the raw answer. */
function get(port: number): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: '127.0.0.1',
        port,
        path: '/systemsmanager/parameters/get?name=%2Fapp%2Fapi-url',
        headers: { 'x-aws-parameters-secrets-token': testToken },
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
