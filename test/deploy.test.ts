// The deployment examples under examples/deploy say the same thing four ways (SAM, CDK, Serverless,
// Terraform), from one configuration (examples/deploy/config.ts). Each is read here (the CDK stack is
// synthesized, offline, with esbuild bundling the real handler) and compared with what
// middy-extension-secrets/deploy computes from that configuration: the layer, the policy statement by
// statement, and the extension's environment variables. The handler itself is run against the emulator
// to check that it reads exactly the names of the configuration.
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { App } from 'aws-cdk-lib'
import { Template } from 'aws-cdk-lib/assertions'
import {
  type Architecture,
  extensionEnvironment,
  extensionLayerArn,
  extensionPolicy,
  type PolicyOptions,
} from 'middy-extension-secrets/deploy'
import { startEmulator } from 'middy-extension-secrets/emulator'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { parseDocument } from 'yaml'
import { OrdersStack } from '../examples/deploy/cdk/stack.js'
import { cacheExpiry, extensionSettings, fetchData } from '../examples/deploy/config.js'
import { type HclBlock, type HclValue, parseHcl } from './hcl.js'

// The synthesized assembly goes to a folder of this file's, removed afterwards.
const cdkOut = mkdtempSync(join(tmpdir(), 'deploy-test-'))
afterAll(() => rmSync(cdkOut, { recursive: true, force: true }))

const root = new URL('..', import.meta.url).pathname
const read = (path: string) => readFileSync(new URL(`../${path}`, import.meta.url), 'utf8')

/** A placeholder as each tool writes it, `${name}`: resolved at deploy time, compared as text here. */
const placeholder = (name: string) => `\${${name}}`

/** The CDK stack is synthesized for a region other than the templates' us-east-1: its layer must follow. */
const cdkRegion = 'eu-west-1'
const cdkKmsKey = 'arn:aws:kms:eu-west-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab'

interface Statement {
  actions: string[]
  resources: string[]
  condition?: unknown
}

/** What each deployment description is reduced to before the shared checks. */
interface Deployment {
  layers: string[]
  architecture: string
  runtime: string
  environment: Record<string, string>
  statements: Statement[]
  /** The handler's source file, relative to the repository root. */
  entry: string
  /** The region its layer is for. */
  region: string
  /** The scope its policy is written for: its tool's placeholders, or the stack's values. */
  scope: PolicyOptions
}

const list = (value: unknown): unknown[] => (Array.isArray(value) ? value : [value])

// CloudFormation intrinsics, flattened into the text they stand for (`${Name}` for a reference), so that
// a resource ARN can be matched whatever tool wrote it.
const flatten = (value: unknown): string => {
  if (typeof value === 'string') return value
  const object = value as Record<string, unknown>
  if ('Ref' in object) return `\${${String(object.Ref)}}`
  if ('Fn::Sub' in object) return String(object['Fn::Sub'])
  if ('Fn::Join' in object) {
    const [separator, parts] = object['Fn::Join'] as [string, unknown[]]
    return parts.map(flatten).join(separator)
  }
  throw new Error(`unexpected intrinsic ${JSON.stringify(value)}`)
}

const cloudFormationStatements = (statements: unknown[]): Statement[] =>
  statements.map((item) => {
    const statement = item as { Effect: string; Action: unknown; Resource: unknown; Condition?: unknown }
    expect(statement.Effect).toBe('Allow')
    const result: Statement = {
      actions: list(statement.Action).map(String),
      resources: list(statement.Resource).map(flatten),
    }
    if (statement.Condition !== undefined) result.condition = flattenDeep(statement.Condition)
    return result
  })

const flattenDeep = (value: unknown): unknown => {
  if (Array.isArray(value)) return value.map(flattenDeep)
  if (typeof value === 'object' && value !== null) {
    if ('Ref' in value || 'Fn::Sub' in value || 'Fn::Join' in value) return flatten(value)
    return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, flattenDeep(item)]))
  }
  return value
}

const parseYaml = (path: string) => {
  const document = parseDocument(read(path), {
    customTags: [
      { tag: '!Ref', resolve: (text: string) => ({ Ref: text }) },
      { tag: '!Sub', resolve: (text: string) => ({ 'Fn::Sub': text }) },
    ],
  })
  expect(document.errors).toEqual([])
  expect(document.warnings).toEqual([])
  return document.toJS() as any
}

const readSam = (): Deployment => {
  const template = parseYaml('examples/deploy/sam/template.yaml')
  const functions = Object.values(template.Resources as Record<string, any>).filter(
    (resource) => resource.Type === 'AWS::Serverless::Function',
  )
  expect(functions).toHaveLength(1)
  const { Properties: properties, Metadata: metadata } = functions[0]
  const parameter = (value: unknown) => {
    const name = /^\$\{(\w+)\}$/.exec(flatten(value))?.[1]
    return name === undefined ? flatten(value) : String(template.Parameters[name].Default)
  }
  return {
    layers: properties.Layers.map(parameter),
    architecture: properties.Architectures.join(),
    runtime: properties.Runtime,
    environment: properties.Environment.Variables,
    statements: properties.Policies.flatMap((policy: any) => cloudFormationStatements(policy.Statement)),
    entry: `${properties.CodeUri.replace(/^(\.\.\/){3}/, '')}${metadata.BuildProperties.EntryPoints[0]}`,
    region: 'us-east-1',
    scope: {
      region: placeholder('AWS::Region'),
      account: placeholder('AWS::AccountId'),
      partition: placeholder('AWS::Partition'),
      urlSuffix: 'amazonaws.com',
      kmsKeyArns: [placeholder('SecretKmsKeyArn')],
    },
  }
}

const readServerless = (): Deployment => {
  const service = parseYaml('examples/deploy/serverless/serverless.yml')
  const params = service.params.default as Record<string, string>
  const resolve = (text: string) => text.replace(/\$\{param:(\w+)\}/g, (_, name: string) => params[name]!)
  const functions = Object.values(service.functions as Record<string, any>)
  expect(functions).toHaveLength(1)
  const fn = functions[0]
  return {
    layers: fn.layers.map(resolve),
    architecture: service.provider.architecture,
    runtime: service.provider.runtime,
    environment: service.provider.environment,
    statements: cloudFormationStatements(service.provider.iam.role.statements),
    entry: `${fn.handler.replace(/\.handler$/, '')}.ts`,
    region: service.provider.region,
    scope: {
      region: placeholder('aws:region'),
      account: placeholder('aws:accountId'),
      partition: 'aws',
      kmsKeyArns: [placeholder('param:secretKmsKeyArn')],
    },
  }
}

const readTerraform = (): Deployment => {
  const blocks = parseHcl(read('examples/deploy/terraform/main.tf'))
  const find = (type: string, ...labels: string[]): HclBlock => {
    const found = blocks.filter(
      (block) => block.type === type && labels.every((label, index) => block.labels[index] === label),
    )
    expect(found, `${type} ${labels.join(' ')}`).toHaveLength(1)
    return found[0]!
  }
  const text = (value: HclValue | undefined): string => {
    if (typeof value === 'string') return value
    const ref = (value as { ref?: string } | undefined)?.ref
    const variable = ref === undefined ? undefined : /^var\.(\w+)$/.exec(ref)?.[1]
    if (variable === undefined) throw new Error(`not a string or a variable: ${JSON.stringify(value)}`)
    const fallback = find('variable', variable).attributes.default
    // A variable without a default is one the user must set, such as the KMS key.
    return fallback === undefined ? `\${var.${variable}}` : text(fallback)
  }
  const fn = find('resource', 'aws_lambda_function')
  expect(fn.attributes.role).toEqual({ ref: 'aws_iam_role.orders.arn' })
  const rolePolicy = find('resource', 'aws_iam_role_policy')
  expect(rolePolicy.attributes.role).toEqual({ ref: 'aws_iam_role.orders.id' })
  const documentName = /^data\.aws_iam_policy_document\.(\w+)\.json$/.exec(
    (rolePolicy.attributes.policy as { ref: string }).ref,
  )![1]!
  const statements = find('data', 'aws_iam_policy_document', documentName).blocks.map((statement) => {
    expect(statement.type).toBe('statement')
    expect(statement.attributes.effect ?? 'Allow').toBe('Allow')
    const result: Statement = {
      actions: (statement.attributes.actions as HclValue[]).map(text),
      resources: (statement.attributes.resources as HclValue[]).map(text),
    }
    const conditions = statement.blocks.filter((block) => block.type === 'condition')
    if (conditions.length > 0) {
      result.condition = Object.fromEntries(
        conditions.map((condition) => [
          text(condition.attributes.test),
          { [text(condition.attributes.variable)]: (condition.attributes.values as HclValue[]).map(text) },
        ]),
      )
    }
    return result
  })
  const environment = fn.blocks.find((block) => block.type === 'environment')!.attributes.variables as Record<
    string,
    HclValue
  >
  const build = /--outfile=build\/orders\/index\.mjs/.test(read('examples/deploy/terraform/main.tf'))
  expect(build, 'the esbuild command in the header writes the archived folder').toBe(true)
  expect(find('data', 'archive_file', 'orders').attributes.source_dir).toBe(
    // biome-ignore lint/suspicious/noTemplateCurlyInString: Terraform's interpolation, read as text
    '${path.module}/../../../build/orders',
  )
  return {
    layers: (fn.attributes.layers as HclValue[]).map(text),
    architecture: (fn.attributes.architectures as HclValue[]).map(text).join(),
    runtime: text(fn.attributes.runtime),
    environment: Object.fromEntries(Object.entries(environment).map(([key, value]) => [key, text(value)])),
    statements,
    entry: /npx esbuild (\S+)/.exec(read('examples/deploy/terraform/main.tf'))![1]!,
    region: 'us-east-1',
    scope: {
      region: placeholder('local.region'),
      account: placeholder('local.account'),
      partition: placeholder('local.partition'),
      urlSuffix: 'amazonaws.com',
      kmsKeyArns: [placeholder('var.secret_kms_key_arn')],
    },
  }
}

let cdkTemplate: Template
const readCdk = (): Deployment => {
  const functions = Object.values(cdkTemplate.findResources('AWS::Lambda::Function')).filter(
    (resource) => resource.Properties.Layers !== undefined,
  )
  expect(functions).toHaveLength(1)
  const properties = functions[0]!.Properties
  const policies = Object.values(cdkTemplate.findResources('AWS::IAM::Policy'))
  const roleName = properties.Role['Fn::GetAtt'][0]
  const statements = policies
    .filter((policy) => policy.Properties.Roles.some((role: { Ref: string }) => role.Ref === roleName))
    .flatMap((policy) => cloudFormationStatements(policy.Properties.PolicyDocument.Statement))
  return {
    layers: properties.Layers,
    architecture: properties.Architectures.join(),
    runtime: properties.Runtime,
    environment: properties.Environment.Variables,
    statements,
    entry: 'examples/http-api/handler.ts',
    region: cdkRegion,
    scope: { region: cdkRegion, account: '111122223333', kmsKeyArns: [cdkKmsKey] },
  }
}

/** The names the handler asks the extension for, recorded by the emulator in a real invocation. */
const requested = { parameter: new Set<string>(), secret: new Set<string>() }

beforeAll(async () => {
  const emulator = await startEmulator({
    values: {
      parameters: { '/shop/prices': '{"book":1}', '/shop/partner-url': 'https://partner.example.com' },
      secrets: { 'prod/partner-api': { json: { apiKey: 'k', accountId: 'a' } } },
    },
  })
  try {
    process.env.PARAMETERS_SECRETS_EXTENSION_HTTP_PORT = String(emulator.port)
    process.env.AWS_SESSION_TOKEN ??= 'local-test-token'
    const { handler } = await import('../examples/http-api/handler.js')
    const event = { headers: { 'content-type': 'application/json' }, body: '{"item":"book","quantity":1}' }
    const response = await handler(event as never, { getRemainingTimeInMillis: () => 3_000 } as never)
    expect(response).toMatchObject({ statusCode: 201 })
    for (const request of emulator.requests) {
      if (request.query.name !== undefined) requested.parameter.add(request.query.name)
      if (request.query.secretId !== undefined) requested.secret.add(request.query.secretId)
    }
  } finally {
    await emulator.close()
  }
  // Synthesis bundles the handler with esbuild from node_modules and runs CDK's template validation:
  // slow on a busy machine, so it is done once for every test below.
  const app = new App({ outdir: cdkOut })
  const stack = new OrdersStack(app, 'Orders', {
    env: { account: '111122223333', region: cdkRegion },
    secretKmsKeyArn: cdkKmsKey,
  })
  cdkTemplate = Template.fromStack(stack)
}, 180_000)

const deployments: Record<string, () => Deployment> = {
  'AWS SAM (examples/deploy/sam/template.yaml)': readSam,
  'AWS CDK (examples/deploy/cdk/stack.ts)': readCdk,
  'Serverless Framework (examples/deploy/serverless/serverless.yml)': readServerless,
  'Terraform (examples/deploy/terraform/main.tf)': readTerraform,
}

test('the handler asks for exactly the names of the shared configuration', () => {
  const configured = { parameter: new Set<string>(), secret: new Set<string>() }
  for (const entry of Object.values(fetchData) as ({ parameter: string } | { secret: string })[]) {
    if ('parameter' in entry) configured.parameter.add(entry.parameter)
    else configured.secret.add(entry.secret)
  }
  expect([...requested.parameter].sort()).toEqual([...configured.parameter].sort())
  expect([...requested.secret].sort()).toEqual([...configured.secret].sort())
  expect(configured.parameter.size + configured.secret.size).toBe(3)
})

/** The computed document, in the shape the readers reduce each tool's statements to. */
const computedStatements = (scope: PolicyOptions): Statement[] =>
  extensionPolicy(fetchData, scope).Statement.map((statement) => ({
    actions: statement.Action,
    resources: statement.Resource,
    ...(statement.Condition === undefined ? {} : { condition: statement.Condition }),
  }))

describe.each(Object.entries(deployments))('%s', (_name, readDeployment) => {
  test("attaches the layer computed for its region and the function's architecture", () => {
    const deployment = readDeployment()
    expect(['x86_64', 'arm64']).toContain(deployment.architecture)
    expect(deployment.layers).toEqual([
      extensionLayerArn(deployment.region, { architecture: deployment.architecture as Architecture }),
    ])
    expect(deployment.runtime).toMatch(/^nodejs(20|22|24)\.x$/)
  })

  test('runs the example handler', () => {
    const { entry } = readDeployment()
    expect(entry).toBe('examples/http-api/handler.ts')
    expect(existsSync(`${root}${entry}`)).toBe(true)
  })

  test('grants exactly the computed policy, statement by statement', () => {
    const deployment = readDeployment()
    expect(deployment.statements).toEqual(computedStatements(deployment.scope))
  })

  test('sets exactly the computed environment variables of the extension', () => {
    expect(readDeployment().environment).toEqual(extensionEnvironment(extensionSettings, cacheExpiry))
  })
})

test("the CDK stack's layer follows the stack's region, not the templates' us-east-1", () => {
  expect(readCdk().layers[0]).toBe(
    'arn:aws:lambda:eu-west-1:015030872274:layer:AWS-Parameters-and-Secrets-Lambda-Extension-Arm64:24',
  )
})

test('the IAM policy shown in docs/deploying.md (examples/deploy/iam-policy.json) is the computed one', () => {
  expect(JSON.parse(read('examples/deploy/iam-policy.json'))).toEqual(
    extensionPolicy(fetchData, {
      region: 'us-east-1',
      account: '111122223333',
      kmsKeyArns: ['arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab'],
    }),
  )
})
