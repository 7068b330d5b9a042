// The policy derived from a fetchData record: the exact IAM resource for every form of name the
// extension accepts, nothing more, in a deterministic order.
import { describe, expect, test } from 'vitest'
import { extensionPolicy, type PolicyOptions } from '../src/deploy/index.js'
import { type ExtensionSecretsOptions, parameter, secret } from '../src/index.js'

const scope: PolicyOptions = { region: 'eu-west-1', account: '111122223333' }
/** A CloudFormation-style placeholder, `${Name}`, as templates write them. */
const cfn = (name: string) => `\${${name}}`
const key = 'arn:aws:kms:eu-west-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab'

const resourcesOf = (fetchData: Record<string, object>, options: Partial<PolicyOptions> = {}) =>
  Object.fromEntries(
    extensionPolicy(fetchData, { ...scope, ...options }).Statement.map((statement) => [
      statement.Action.join(),
      statement.Resource,
    ]),
  )

describe('the resource of each name form', () => {
  test.each([
    ['a path', '/app/db-url', 'arn:aws:ssm:eu-west-1:111122223333:parameter/app/db-url'],
    [
      'a name without a leading slash',
      'feature-flags',
      'arn:aws:ssm:eu-west-1:111122223333:parameter/feature-flags',
    ],
    ['a name with a version selector', '/app/x:3', 'arn:aws:ssm:eu-west-1:111122223333:parameter/app/x'],
    ['a name with a label selector', 'x:Prod', 'arn:aws:ssm:eu-west-1:111122223333:parameter/x'],
    [
      'an ARN',
      'arn:aws:ssm:eu-west-1:111122223333:parameter/app/x',
      'arn:aws:ssm:eu-west-1:111122223333:parameter/app/x',
    ],
    [
      "another account's ARN",
      'arn:aws:ssm:us-east-2:444455556666:parameter/shared',
      'arn:aws:ssm:us-east-2:444455556666:parameter/shared',
    ],
    [
      'an ARN with a selector',
      'arn:aws:ssm:eu-west-1:111122223333:parameter/app/x:7',
      'arn:aws:ssm:eu-west-1:111122223333:parameter/app/x',
    ],
    [
      'a public parameter (owned by AWS: no account)',
      '/aws/service/global-infrastructure/version',
      'arn:aws:ssm:eu-west-1::parameter/aws/service/global-infrastructure/version',
    ],
  ])('a parameter given as %s', (_form, name, arn) => {
    expect(resourcesOf({ value: { parameter: name } })).toEqual({ 'ssm:GetParameter': [arn] })
  })

  test.each([
    [
      'a name gets the six characters AWS appends',
      'prod/db',
      'arn:aws:secretsmanager:eu-west-1:111122223333:secret:prod/db-??????',
    ],
    [
      'a complete ARN is used as given',
      'arn:aws:secretsmanager:eu-west-1:111122223333:secret:prod/db-AbC123',
      'arn:aws:secretsmanager:eu-west-1:111122223333:secret:prod/db-AbC123',
    ],
    [
      "another account's ARN is used as given",
      'arn:aws:secretsmanager:us-east-1:444455556666:secret:shared-Zz9Zz9',
      'arn:aws:secretsmanager:us-east-1:444455556666:secret:shared-Zz9Zz9',
    ],
    [
      'a partial ARN (no suffix) gets the suffix IAM needs',
      'arn:aws:secretsmanager:eu-west-1:111122223333:secret:prod/db',
      'arn:aws:secretsmanager:eu-west-1:111122223333:secret:prod/db-??????',
    ],
  ])('a secret: %s', (_form, id, arn) => {
    expect(resourcesOf({ value: { secret: id } })).toEqual({ 'secretsmanager:GetSecretValue': [arn] })
  })

  test('a parameter under /aws/reference/secretsmanager/ needs the reference path and the secret', () => {
    expect(resourcesOf({ db: parameter('/aws/reference/secretsmanager/prod/db') })).toEqual({
      'secretsmanager:GetSecretValue': [
        'arn:aws:secretsmanager:eu-west-1:111122223333:secret:prod/db-??????',
      ],
      'ssm:GetParameter': [
        'arn:aws:ssm:eu-west-1:111122223333:parameter/aws/reference/secretsmanager/prod/db',
      ],
    })
    const arn = 'arn:aws:secretsmanager:eu-west-1:444455556666:secret:shared-AbC123'
    expect(resourcesOf({ db: parameter(`/aws/reference/secretsmanager/${arn}`) })).toEqual({
      'secretsmanager:GetSecretValue': [arn],
      'ssm:GetParameter': [
        `arn:aws:ssm:eu-west-1:111122223333:parameter/aws/reference/secretsmanager/${arn}`,
      ],
    })
  })

  test('version, label, versionId and versionStage select a version of the same resource', () => {
    const fetchData = {
      v3: parameter('/app/x', { version: 3 }),
      prod: parameter('/app/x', { label: 'Prod' }),
      current: secret('prod/db'),
      byId: secret('prod/db', { versionId: 'b1c367b9-7f53-4a47-82c4-be51a054b953' }),
      previous: secret('prod/db', { versionStage: 'AWSPREVIOUS' }),
    }
    expect(resourcesOf(fetchData)).toEqual({
      'secretsmanager:GetSecretValue': [
        'arn:aws:secretsmanager:eu-west-1:111122223333:secret:prod/db-??????',
      ],
      'ssm:GetParameter': ['arn:aws:ssm:eu-west-1:111122223333:parameter/app/x'],
    })
  })

  test('the partition and host suffix follow the region', () => {
    const policy = extensionPolicy(
      { db: secret('prod/db'), url: parameter('/app/url') },
      {
        region: 'cn-north-1',
        account: '111122223333',
        kmsKeyArns: ['arn:aws-cn:kms:cn-north-1:111122223333:key/abc'],
      },
    )
    expect(policy.Statement.flatMap((statement) => statement.Resource)).toEqual([
      'arn:aws-cn:kms:cn-north-1:111122223333:key/abc',
      'arn:aws-cn:secretsmanager:cn-north-1:111122223333:secret:prod/db-??????',
      'arn:aws-cn:ssm:cn-north-1:111122223333:parameter/app/url',
    ])
    expect(policy.Statement[0]!.Condition!.StringEquals['kms:ViaService']).toEqual([
      'secretsmanager.cn-north-1.amazonaws.com.cn',
      'ssm.cn-north-1.amazonaws.com.cn',
    ])
    expect(resourcesOf({ url: parameter('/app/url') }, { region: 'us-gov-west-1' })).toEqual({
      'ssm:GetParameter': ['arn:aws-us-gov:ssm:us-gov-west-1:111122223333:parameter/app/url'],
    })
  })

  test('placeholders pass through for templates that resolve them at deploy time', () => {
    const policy = extensionPolicy(
      { url: parameter('/app/url') },
      { region: cfn('AWS::Region'), account: cfn('AWS::AccountId'), partition: cfn('AWS::Partition') },
    )
    expect(policy.Statement[0]!.Resource).toEqual([
      `arn:${cfn('AWS::Partition')}:ssm:${cfn('AWS::Region')}:${cfn('AWS::AccountId')}:parameter/app/url`,
    ])
  })
})

describe('the document', () => {
  const fetchData = {
    prices: parameter('/shop/prices', { parse: 'json' }),
    url: parameter('/shop/url', { parse: 'text' }),
    again: parameter('/shop/prices', { parse: 'text' }),
    partner: secret('prod/partner-api', { field: 'apiKey' }),
  }
  const expected = {
    Version: '2012-10-17',
    Statement: [
      {
        Effect: 'Allow',
        Action: ['kms:Decrypt'],
        Resource: [key],
        Condition: {
          StringEquals: {
            'kms:ViaService': ['secretsmanager.eu-west-1.amazonaws.com', 'ssm.eu-west-1.amazonaws.com'],
          },
        },
      },
      {
        Effect: 'Allow',
        Action: ['secretsmanager:GetSecretValue'],
        Resource: ['arn:aws:secretsmanager:eu-west-1:111122223333:secret:prod/partner-api-??????'],
      },
      {
        Effect: 'Allow',
        Action: ['ssm:GetParameter'],
        Resource: [
          'arn:aws:ssm:eu-west-1:111122223333:parameter/shop/prices',
          'arn:aws:ssm:eu-west-1:111122223333:parameter/shop/url',
        ],
      },
    ],
  }

  test('one statement per action, sorted, resources sorted and unique, whatever the order of fetchData', () => {
    expect(extensionPolicy(fetchData, { ...scope, kmsKeyArns: [key, key] })).toEqual(expected)
    const reversed = Object.fromEntries(Object.entries(fetchData).reverse())
    expect(JSON.stringify(extensionPolicy(reversed, { ...scope, kmsKeyArns: [key] }))).toBe(
      JSON.stringify(expected),
    )
  })

  test('takes the record, the middleware options, or any object carrying fetchData', () => {
    const options = { fetchData, cacheExpiry: 60_000, hideSecrets: true }
    const middlewareObject = { before: () => {}, after: () => {}, fetchData }
    for (const config of [options, middlewareObject]) {
      expect(extensionPolicy(config, { ...scope, kmsKeyArns: [key] })).toEqual(expected)
    }
    // A record whose entry is called fetchData is a record, not a holder.
    expect(resourcesOf({ fetchData: parameter('/x') })).toEqual({
      'ssm:GetParameter': ['arn:aws:ssm:eu-west-1:111122223333:parameter/x'],
    })
  })

  test("accepts the middleware's options as the package types them (checked by tsc too)", () => {
    const options: ExtensionSecretsOptions = { fetchData: { db: secret('prod/db') }, cacheExpiry: 1_000 }
    expect(extensionPolicy(options, scope).Statement.map((statement) => statement.Action)).toEqual([
      ['secretsmanager:GetSecretValue'],
    ])
  })

  test("reads only names and selectors: the middleware's other keys, valid or not, are ignored", () => {
    const entry = { parameter: '/x', parse: 'no such mode', schema: 42, field: '', somethingNew: [] }
    expect(resourcesOf({ x: entry })).toEqual({
      'ssm:GetParameter': ['arn:aws:ssm:eu-west-1:111122223333:parameter/x'],
    })
  })

  test('grants no KMS key unless one is named, and only via the services the function reads', () => {
    expect(
      extensionPolicy({ a: secret('a') }, scope).Statement.map((statement) => statement.Action[0]),
    ).toEqual(['secretsmanager:GetSecretValue'])
    const [kms] = extensionPolicy({ a: secret('a') }, { ...scope, kmsKeyArns: [key] }).Statement
    expect(kms!.Condition).toEqual({
      StringEquals: { 'kms:ViaService': ['secretsmanager.eu-west-1.amazonaws.com'] },
    })
  })
})

describe('mistakes are TypeErrors naming the option path', () => {
  const message = (run: () => unknown) => {
    try {
      run()
    } catch (error) {
      expect(error).toBeInstanceOf(TypeError)
      return (error as Error).message
    }
    throw new Error('did not throw')
  }
  test.each([
    [{}, scope, '`fetchData` has no entries: there is nothing to deploy for'],
    [{ a: 'x' }, scope, '`fetchData.a` must be an object made by parameter(...) or secret(...), got "x"'],
    [{ a: { name: '/x' } }, scope, '`fetchData.a` must have exactly one of `parameter` and `secret`'],
    [
      { a: { parameter: '/x', secret: 'y' } },
      scope,
      '`fetchData.a` must have exactly one of `parameter` and `secret`',
    ],
    [{ a: { parameter: 1 } }, scope, '`fetchData.a.parameter` must be a non-empty string, got 1'],
    [
      { a: { parameter: '/x', version: 0 } },
      scope,
      '`fetchData.a.version` must be an integer from 1 to 9007199254740991, got 0',
    ],
    [
      { a: { secret: 'x', versionStage: '' } },
      scope,
      '`fetchData.a.versionStage` must be a non-empty string, got ""',
    ],
    [
      { a: { secret: 'prod/*' } },
      scope,
      '`fetchData.a.secret` contains * or ?, which IAM reads as wildcards; name one value exactly',
    ],
    [
      { a: { parameter: 'arn:aws:secretsmanager:eu-west-1:111122223333:secret:x' } },
      scope,
      '`fetchData.a.parameter` is an ARN but not a parameter ARN (arn:<partition>:ssm:<region>:<account>:parameter/<name>)',
    ],
    [
      { a: { secret: 'arn:aws:ssm:eu-west-1:111122223333:parameter/x' } },
      scope,
      '`fetchData.a.secret` is an ARN but not a secret ARN (arn:<partition>:secretsmanager:<region>:<account>:secret:<name>-<6 characters>)',
    ],
    [
      { a: { parameter: '/x' } },
      { ...scope, account: '1111' },
      `\`account\` must be 12 digits or a ${cfn('...')} placeholder, got "1111"`,
    ],
    [
      { a: { parameter: '/x' } },
      { ...scope, region: 'Europe' },
      `\`region\` must be a region name such as 'eu-west-1' or a ${cfn('...')} placeholder, got "Europe"`,
    ],
    [
      { a: { parameter: '/x' } },
      { ...scope, region: cfn('AWS::Region') },
      `\`region\` cannot tell the partition of region "${cfn('AWS::Region')}": give \`partition\` too`,
    ],
    [
      { a: { parameter: '/x' } },
      { ...scope, kmsKeyArns: ['arn:aws:kms:eu-west-1:111122223333:alias/app'] },
      '`kmsKeyArns[0]` is an alias ARN: IAM authorizes kms:Decrypt on the key ARN (arn:...:key/<id>)',
    ],
    [
      { a: { parameter: '/x' } },
      { ...scope, kmsKeyArns: ['*'] },
      '`kmsKeyArns[0]` must be a KMS key ARN (arn:<partition>:kms:<region>:<account>:key/<id>), got "*"',
    ],
    [
      { a: { parameter: '/x' } },
      { ...scope, kmsKeys: [] },
      '`options.kmsKeys` is not a known option; known: region, account, partition, urlSuffix, kmsKeyArns',
    ],
  ])('%j with %j', (config, options, expected) => {
    expect(message(() => extensionPolicy(config as never, options as never))).toBe(
      `middy-extension-secrets/deploy: ${expected}`,
    )
  })
})
