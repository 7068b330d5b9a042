// extensionSecretsFor in a synthesized stack (Template.fromStack, offline): the exact role policy for
// every form of name, the layer for the stack's region and the function's architecture, the settings.

import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { App, Stack } from 'aws-cdk-lib'
import { Template } from 'aws-cdk-lib/assertions'
import { Architecture, Code, Function as LambdaFunction, Runtime } from 'aws-cdk-lib/aws-lambda'
import { afterAll, describe, expect, test } from 'vitest'
import { type ExtensionSecretsForOptions, extensionSecretsFor } from '../src/deploy/cdk.js'
import { parameter, secret } from '../src/index.js'

// Synthesis writes an assembly: into one folder of this file's, removed afterwards.
const outdir = mkdtempSync(join(tmpdir(), 'deploy-cdk-test-'))
afterAll(() => rmSync(outdir, { recursive: true, force: true }))
let apps = 0

const account = '111122223333'
const key = `arn:aws:kms:eu-west-1:${account}:key/1234abcd-12ab-34cd-56ef-1234567890ab`

const synth = (
  fetchData: Record<string, object>,
  options: ExtensionSecretsForOptions = {},
  env: { account?: string; region?: string } = { account, region: 'eu-west-1' },
  architecture = Architecture.ARM_64,
) => {
  const stack = new Stack(new App({ outdir: join(outdir, String(apps++)) }), 'Test', { env })
  const fn = new LambdaFunction(stack, 'Fn', {
    runtime: Runtime.NODEJS_22_X,
    architecture,
    handler: 'index.handler',
    code: Code.fromInline('export const handler = async () => {}'),
  })
  const returned = extensionSecretsFor(fn, fetchData, options)
  const template = Template.fromStack(stack)
  const [policy, ...others] = Object.values(template.findResources('AWS::IAM::Policy'))
  expect(others).toEqual([])
  const [lambda] = Object.values(template.findResources('AWS::Lambda::Function'))
  return { statements: policy!.Properties.PolicyDocument.Statement, properties: lambda!.Properties, returned }
}

const allow = (action: string, resources: string[]) => ({
  Effect: 'Allow',
  Action: action,
  Resource: resources.length === 1 ? resources[0] : resources,
})

describe('the role policy for each name form', () => {
  test.each([
    ['a path', '/app/db-url', `arn:aws:ssm:eu-west-1:${account}:parameter/app/db-url`],
    ['a name without a slash', 'flags', `arn:aws:ssm:eu-west-1:${account}:parameter/flags`],
    [
      'an ARN',
      `arn:aws:ssm:eu-west-1:${account}:parameter/app/x`,
      `arn:aws:ssm:eu-west-1:${account}:parameter/app/x`,
    ],
    [
      "another account's ARN",
      'arn:aws:ssm:eu-west-1:444455556666:parameter/shared',
      'arn:aws:ssm:eu-west-1:444455556666:parameter/shared',
    ],
  ])('a parameter given as %s', (_form, name, arn) => {
    expect(synth({ value: parameter(name) }).statements).toEqual([allow('ssm:GetParameter', [arn])])
  })

  test.each([
    ['a name', 'prod/db', `arn:aws:secretsmanager:eu-west-1:${account}:secret:prod/db-??????`],
    [
      'an ARN',
      `arn:aws:secretsmanager:eu-west-1:${account}:secret:prod/db-AbC123`,
      `arn:aws:secretsmanager:eu-west-1:${account}:secret:prod/db-AbC123`,
    ],
    [
      "another account's ARN",
      'arn:aws:secretsmanager:eu-west-1:444455556666:secret:shared-Zz9Zz9',
      'arn:aws:secretsmanager:eu-west-1:444455556666:secret:shared-Zz9Zz9',
    ],
  ])('a secret given as %s', (_form, id, arn) => {
    expect(synth({ value: secret(id) }).statements).toEqual([allow('secretsmanager:GetSecretValue', [arn])])
  })

  test('the reference path: the path and the secret', () => {
    expect(synth({ db: parameter('/aws/reference/secretsmanager/prod/db') }).statements).toEqual([
      allow('secretsmanager:GetSecretValue', [
        `arn:aws:secretsmanager:eu-west-1:${account}:secret:prod/db-??????`,
      ]),
      allow('ssm:GetParameter', [
        `arn:aws:ssm:eu-west-1:${account}:parameter/aws/reference/secretsmanager/prod/db`,
      ]),
    ])
  })

  test('version and label, versionId and versionStage: the same resources, once', () => {
    const { statements } = synth({
      v2: parameter('/app/x', { version: 2 }),
      prod: parameter('/app/x', { label: 'Prod' }),
      byId: secret('prod/db', { versionId: 'b1c367b9-7f53-4a47-82c4-be51a054b953' }),
      previous: secret('prod/db', { versionStage: 'AWSPREVIOUS' }),
    })
    expect(statements).toEqual([
      allow('secretsmanager:GetSecretValue', [
        `arn:aws:secretsmanager:eu-west-1:${account}:secret:prod/db-??????`,
      ]),
      allow('ssm:GetParameter', [`arn:aws:ssm:eu-west-1:${account}:parameter/app/x`]),
    ])
  })

  test('a SecureString with a customer-managed key: kms:Decrypt on that key, only via Parameter Store', () => {
    const { statements } = synth(
      { password: parameter('/app/password', { decrypt: true }) },
      { kmsKeyArns: [key] },
    )
    expect(statements).toEqual([
      {
        ...allow('kms:Decrypt', [key]),
        Condition: { StringEquals: { 'kms:ViaService': ['ssm.eu-west-1.amazonaws.com'] } },
      },
      allow('ssm:GetParameter', [`arn:aws:ssm:eu-west-1:${account}:parameter/app/password`]),
    ])
  })

  test("an account left to deployment stays the stack's AccountId reference", () => {
    const { statements } = synth({ db: secret('prod/db') }, {}, { region: 'eu-west-1' })
    expect(statements).toEqual([
      {
        Effect: 'Allow',
        Action: 'secretsmanager:GetSecretValue',
        Resource: {
          'Fn::Join': [
            '',
            ['arn:aws:secretsmanager:eu-west-1:', { Ref: 'AWS::AccountId' }, ':secret:prod/db-??????'],
          ],
        },
      },
    ])
  })
})

describe('the layer and its settings', () => {
  test("the layer of the stack's region and the function's architecture, the TTLs from cacheExpiry", () => {
    const { properties, returned } = synth(
      { db: secret('prod/db') },
      { cacheExpiry: 30_000, settings: { logLevel: 'warn' } },
      { account, region: 'ap-northeast-1' },
      Architecture.X86_64,
    )
    expect(properties.Layers).toEqual([
      'arn:aws:lambda:ap-northeast-1:133490724326:layer:AWS-Parameters-and-Secrets-Lambda-Extension:24',
    ])
    expect(properties.Environment.Variables).toEqual({
      PARAMETERS_SECRETS_EXTENSION_LOG_LEVEL: 'warn',
      SECRETS_MANAGER_TTL: '30',
      SSM_PARAMETER_STORE_TTL: '30',
    })
    expect(returned.layerArn).toBe(properties.Layers[0])
  })

  test('reads cacheExpiry from the middleware options it is given', () => {
    const { properties } = synth({ fetchData: { db: secret('prod/db') }, cacheExpiry: 5_000 } as never)
    expect(properties.Layers).toEqual([
      'arn:aws:lambda:eu-west-1:015030872274:layer:AWS-Parameters-and-Secrets-Lambda-Extension-Arm64:24',
    ])
    expect(properties.Environment.Variables).toEqual({
      SECRETS_MANAGER_TTL: '5',
      SSM_PARAMETER_STORE_TTL: '5',
    })
  })

  test('an environment-agnostic stack is an error: its region is a token', () => {
    expect(() => synth({ db: secret('prod/db') }, {}, {})).toThrow(
      new TypeError(
        "middy-extension-secrets/deploy: `region` of the stack Test is not known at synthesis: the extension layer differs per region, so give the stack `env: { region: '...' }`",
      ),
    )
  })

  test('a region whose version the table lacks needs layerVersion', () => {
    expect(() => synth({ db: secret('prod/db') }, {}, { account, region: 'us-west-2' })).toThrow(
      /`layerVersion` is needed for us-west-2/,
    )
    const { properties } = synth(
      { db: secret('prod/db') },
      { layerVersion: 30 },
      { account, region: 'us-west-2' },
    )
    expect(properties.Layers).toEqual([
      'arn:aws:lambda:us-west-2:345057560386:layer:AWS-Parameters-and-Secrets-Lambda-Extension-Arm64:30',
    ])
  })

  test('options the stack decides are not options', () => {
    expect(() => synth({ db: secret('prod/db') }, { region: 'us-east-1' } as never)).toThrow(
      '`options.region` is not a known option; known: kmsKeyArns, layerVersion, layerArn, cacheExpiry, settings',
    )
  })
})
