// The deployment examples under examples/deploy say the same thing four ways (SAM, CDK, Serverless,
// Terraform). Each is read here (the CDK stack is synthesized, offline, with esbuild bundling the real
// handler) and checked for the same facts: the extension layer, least-privilege IAM covering exactly
// the names the handler asks the extension for, and the extension's environment variables.
import { existsSync, readFileSync } from 'node:fs'
import { App } from 'aws-cdk-lib'
import { Template } from 'aws-cdk-lib/assertions'
import { startEmulator } from 'middy-extension-secrets/emulator'
import { beforeAll, describe, expect, test } from 'vitest'
import { parseDocument } from 'yaml'
import { OrdersStack } from '../examples/deploy/cdk/stack.js'
import { type HclBlock, type HclValue, parseHcl } from './hcl.js'

const root = new URL('..', import.meta.url).pathname
const read = (path: string) => readFileSync(new URL(`../${path}`, import.meta.url), 'utf8')

const layerArn =
  'arn:aws:lambda:us-east-1:177933569100:layer:AWS-Parameters-and-Secrets-Lambda-Extension-Arm64:24'
const extensionEnvironment = {
  SECRETS_MANAGER_TTL: '60',
  SSM_PARAMETER_STORE_TTL: '300',
  PARAMETERS_SECRETS_EXTENSION_LOG_LEVEL: 'info',
}

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
    statements: cloudFormationStatements(service.provider.iam.role.statements).map((statement) => ({
      ...statement,
      resources: statement.resources.map(resolve),
    })),
    entry: `${fn.handler.replace(/\.handler$/, '')}.ts`,
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
  }
}

/** Placeholders (`${AWS::Region}`, `${aws:accountId}`, `${local.region}`) may hold colons: one letter each. */
const placeholdersOut = (text: string) => text.replace(/\$\{[^}]+\}/g, 'X')

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
  const app = new App()
  const stack = new OrdersStack(app, 'Orders', {
    env: { account: '111122223333', region: 'us-east-1' },
    secretKmsKeyArn: 'arn:aws:kms:us-east-1:111122223333:key/example',
  })
  cdkTemplate = Template.fromStack(stack)
}, 180_000)

const readPolicyFile = (): Pick<Deployment, 'statements'> => ({
  statements: cloudFormationStatements(JSON.parse(read('examples/deploy/iam-policy.json')).Statement),
})

const deployments: Record<string, () => Deployment> = {
  'AWS SAM (examples/deploy/sam/template.yaml)': readSam,
  'AWS CDK (examples/deploy/cdk/stack.ts)': readCdk,
  'Serverless Framework (examples/deploy/serverless/serverless.yml)': readServerless,
  'Terraform (examples/deploy/terraform/main.tf)': readTerraform,
}

test('the handler asks for the names the deployments grant', () => {
  expect([...requested.parameter].sort()).toEqual(['/shop/partner-url', '/shop/prices'])
  expect([...requested.secret]).toEqual(['prod/partner-api'])
})

/** Exactly the three read actions, each on exactly the names the handler reads, KMS only via the services. */
const checkStatements = (statements: Statement[]) => {
  expect(statements.flatMap((statement) => statement.actions).sort()).toEqual([
    'kms:Decrypt',
    'secretsmanager:GetSecretValue',
    'ssm:GetParameter',
  ])
  const byAction = (action: string) => statements.find((statement) => statement.actions.includes(action))!
  for (const statement of statements) expect(statement.actions).toHaveLength(1)

  const parameters = byAction('ssm:GetParameter')
  expect(parameters.condition).toBeUndefined()
  const granted = parameters.resources.map(placeholdersOut).map((arn) => {
    expect(arn).toMatch(/^arn:[^:]+:ssm:[^:]+:[^:]+:parameter\//)
    return arn.replace(/^arn:[^:]+:ssm:[^:]+:[^:]+:parameter/, '')
  })
  expect(granted.sort()).toEqual([...requested.parameter].sort())

  const secrets = byAction('secretsmanager:GetSecretValue')
  expect(secrets.condition).toBeUndefined()
  expect(secrets.resources).toHaveLength(requested.secret.size)
  for (const name of requested.secret) {
    expect(secrets.resources.map(placeholdersOut)).toContainEqual(
      expect.stringMatching(new RegExp(`^arn:[^:]+:secretsmanager:[^:]+:[^:]+:secret:${name}-\\?{6}$`)),
    )
  }

  const kms = byAction('kms:Decrypt')
  expect(kms.resources).toHaveLength(1)
  expect(kms.resources[0]).not.toContain('*')
  const viaService = (kms.condition as any)?.StringEquals?.['kms:ViaService'] as string[]
  expect(viaService.map((service) => service.split('.')[0])).toEqual(['secretsmanager', 'ssm'])
  for (const service of viaService) {
    expect(placeholdersOut(service)).toMatch(/^(secretsmanager|ssm)\.(X|us-east-1)\.amazonaws\.com$/)
  }
}

describe.each(Object.entries(deployments))('%s', (_name, readDeployment) => {
  test('attaches the extension layer that matches the architecture', () => {
    const deployment = readDeployment()
    expect(deployment.layers).toEqual([layerArn])
    const [, , , region, account, , layerName, version] = deployment.layers[0]!.split(':')
    expect({ region, account, layerName }).toEqual({
      region: 'us-east-1',
      account: '177933569100',
      layerName: `AWS-Parameters-and-Secrets-Lambda-Extension${deployment.architecture === 'arm64' ? '-Arm64' : ''}`,
    })
    expect(Number(version)).toBeGreaterThanOrEqual(1)
    expect(deployment.runtime).toMatch(/^nodejs(20|22|24)\.x$/)
  })

  test('runs the example handler', () => {
    const { entry } = readDeployment()
    expect(entry).toBe('examples/http-api/handler.ts')
    expect(existsSync(`${root}${entry}`)).toBe(true)
  })

  test('grants exactly the three read actions, on exactly the names the handler reads', () => {
    checkStatements(readDeployment().statements)
  })

  test("sets the extension's environment variables", () => {
    expect(readDeployment().environment).toMatchObject(extensionEnvironment)
  })
})

test('the IAM policy shown in docs/deploying.md (examples/deploy/iam-policy.json) grants the same', () => {
  checkStatements(readPolicyFile().statements)
})
