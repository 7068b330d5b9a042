// The extension-secrets-policy command: in process for its flags and messages, and once as a child
// process, as a SAM, Serverless or Terraform user runs it.
import { spawn } from 'node:child_process'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { deployment } from '../examples/deploy/deployment.js'
import { parseCommandLine } from '../src/deploy-cli/args.js'
import { runPolicyCommand } from '../src/deploy-cli/run.js'

const root = new URL('..', import.meta.url).pathname
const run = async (...argv: string[]) => {
  let out = ''
  let err = ''
  const code = await runPolicyCommand(argv, root, {
    out: (text) => {
      out += `${text}\n`
    },
    err: (text) => {
      err += `${text}\n`
    },
  })
  return { code, out, err }
}

let dir: string
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'policy-cli-'))
  // Plain JavaScript, as a project without TypeScript writes it: fetchData and cacheExpiry exported.
  await writeFile(
    join(dir, 'handler-config.mjs'),
    [
      "export const fetchData = { db: { secret: 'prod/db', parse: 'json' }, url: { parameter: '/app/url' } }",
      'export const cacheExpiry = 30000',
      "export const middlewareOptions = { fetchData: { flags: { parameter: 'flags' } } }",
    ].join('\n'),
  )
})
afterAll(() => rm(dir, { recursive: true, force: true }))

describe('in process', () => {
  test("prints, as JSON, what extensionDeployment computes from the example's module", async () => {
    const { code, out, err } = await run(
      '--module',
      'examples/deploy/config.ts',
      '--region',
      'eu-west-1',
      '--account',
      '111122223333',
      '--architecture',
      'arm64',
      '--log-level',
      'info',
      '--format',
      'json',
      '--kms-key-arn',
      'arn:aws:kms:eu-west-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab',
    )
    expect({ code, err }).toEqual({ code: 0, err: '' })
    // examples/deploy/deployment.ts computes the same in code, as docs/deploying.md shows.
    expect(JSON.parse(out)).toEqual(deployment)
    expect(JSON.parse(out).environment).toEqual({
      PARAMETERS_SECRETS_EXTENSION_LOG_LEVEL: 'info',
      SECRETS_MANAGER_TTL: '60',
      SSM_PARAMETER_STORE_TTL: '60',
    })
  })

  test('text: the layer, the variables, then the policy, with the account left to CloudFormation', async () => {
    const { code, out } = await run('--module', join(dir, 'handler-config.mjs'), '--region', 'us-east-1')
    expect(code).toBe(0)
    expect(out).toContain(
      'Layer:\n  arn:aws:lambda:us-east-1:177933569100:layer:AWS-Parameters-and-Secrets-Lambda-Extension:24\n',
    )
    expect(out).toContain(
      "Environment variables (the layer's settings):\n  SECRETS_MANAGER_TTL=30\n  SSM_PARAMETER_STORE_TTL=30\n",
    )
    const policy = JSON.parse(out.slice(out.indexOf('{')))
    expect(policy.Statement.flatMap((statement: { Resource: string[] }) => statement.Resource)).toEqual([
      // biome-ignore lint/suspicious/noTemplateCurlyInString: CloudFormation's placeholder, printed as text
      'arn:aws:secretsmanager:us-east-1:${AWS::AccountId}:secret:prod/db-??????',
      // biome-ignore lint/suspicious/noTemplateCurlyInString: CloudFormation's placeholder, printed as text
      'arn:aws:ssm:us-east-1:${AWS::AccountId}:parameter/app/url',
    ])
  })

  test('--export picks one export; the settings flags and --cache-expiry reach the environment', async () => {
    const { code, out } = await run(
      '--module',
      join(dir, 'handler-config.mjs'),
      '--export',
      'middlewareOptions',
      '--region',
      'eu-west-1',
      '--account',
      '111122223333',
      '--cache-expiry',
      '-1',
      '--secrets-manager-ttl',
      '0',
      '--cache-size',
      '10',
      '--cache-enabled',
      'true',
      '--kms-key-arn',
      'arn:aws:kms:eu-west-1:111122223333:key/abc',
      '--format',
      'json',
    )
    expect(code).toBe(0)
    const printed = JSON.parse(out)
    expect(printed.environment).toEqual({
      PARAMETERS_SECRETS_EXTENSION_CACHE_ENABLED: 'TRUE',
      PARAMETERS_SECRETS_EXTENSION_CACHE_SIZE: '10',
      SECRETS_MANAGER_TTL: '0',
    })
    expect(printed.policy.Statement.map((statement: { Resource: string[] }) => statement.Resource)).toEqual([
      ['arn:aws:kms:eu-west-1:111122223333:key/abc'],
      ['arn:aws:ssm:eu-west-1:111122223333:parameter/flags'],
    ])
  })

  test.each([
    [
      ['--region', 'eu-west-1'],
      2,
      'extension-secrets-policy: --module is required: the module exporting the configuration\nRun extension-secrets-policy --help for usage.\n',
    ],
    [
      ['--module', 'x.js', '--region'],
      2,
      'extension-secrets-policy: --region: missing value\nRun extension-secrets-policy --help for usage.\n',
    ],
    [
      ['--module', 'x.js', '--region', 'eu-west-1', '--cache-size', 'ten'],
      2,
      'extension-secrets-policy: --cache-size: expected a whole number, got "ten"\nRun extension-secrets-policy --help for usage.\n',
    ],
    [
      ['--module', 'x.js', '--region', 'eu-west-1', '--format', 'yaml'],
      2,
      'extension-secrets-policy: --format: expected text or json, got "yaml"\nRun extension-secrets-policy --help for usage.\n',
    ],
    [
      ['--module', 'missing.mjs', '--region', 'eu-west-1'],
      1,
      `extension-secrets-policy: cannot find missing.mjs (from ${root})\n`,
    ],
    [
      ['--module', 'examples/deploy/config.ts', '--export', 'nope', '--region', 'eu-west-1'],
      1,
      'extension-secrets-policy: examples/deploy/config.ts has no export "nope"; it exports: cacheExpiry, extensionSettings, fetchData\n',
    ],
    [
      ['--module', 'examples/deploy/config.ts', '--region', 'mx-central-1'],
      1,
      'extension-secrets-policy: middy-extension-secrets/deploy: `region` is "mx-central-1", which is not in this package\'s table of extension layers (2026-01): look the layer up on the AWS page "AWS Parameters and Secrets Lambda Extension ARNs" and pass it as `layerArn`\n',
    ],
    [
      ['--module', 'examples/deploy/config.ts', '--region', 'eu-west-1', '--secrets-manager-ttl', '600'],
      1,
      'extension-secrets-policy: middy-extension-secrets/deploy: `settings.secretsManagerTtl` must be an integer from 0 to 300, got 600\n',
    ],
  ])('%j exits %i', async (argv, expectedCode, message) => {
    const { code, out, err } = await run(...argv)
    expect({ code, out, err }).toEqual({ code: expectedCode, out: '', err: message })
  })

  test('--help', async () => {
    const { code, out } = await run('--help')
    expect(code).toBe(0)
    expect(out).toMatch(/^Usage: extension-secrets-policy --module FILE --region REGION \[options\]/)
    // Every flag the help names is one the parser knows, and the help names all 20.
    const named = [...out.matchAll(/(?:^\s*|, )--([a-z-]+)/gm)].map((match) => match[1]!)
    expect(new Set(named).size).toBe(20)
    for (const flag of named) expect(() => parseCommandLine([`--${flag}`, 'x'])).not.toThrow(/unknown option/)
  })
})

test('as a child process: a plain JavaScript module, JSON on stdout, exit code 0', async () => {
  const bin = new URL('../src/deploy-cli/bin.ts', import.meta.url).pathname
  const tsxLoader = new URL('../node_modules/tsx/dist/loader.mjs', import.meta.url).href
  const child = spawn(
    process.execPath,
    [
      '--import',
      tsxLoader,
      bin,
      '--module',
      'handler-config.mjs',
      '--region',
      'ap-northeast-1',
      '--format',
      'json',
    ],
    { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] },
  )
  let out = ''
  let err = ''
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
    out += chunk
  })
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
    err += chunk
  })
  const code = await new Promise((resolve) => child.once('close', resolve))
  expect({ code, err }).toEqual({ code: 0, err: '' })
  expect(JSON.parse(out).layerArn).toBe(
    'arn:aws:lambda:ap-northeast-1:133490724326:layer:AWS-Parameters-and-Secrets-Lambda-Extension:24',
  )
  expect(JSON.parse(out).policy.Statement).toHaveLength(2)
})
