import { type Grants, parameterGrants, referencePrefix, type Scope, secretGrant } from './arns.js'
import { checkKnownKeys, checkText, describe, fail, isObject, isPlaceholder } from './checks.js'
import { type DeploymentConfig, readConfig, type Source } from './config.js'
import { checkRegion, partitionOf, urlSuffixOf } from './partitions.js'

export interface PolicyOptions {
  /** The function's region, or a placeholder such as `${AWS::Region}` (then give `partition` too). */
  region: string
  /** The function's account (12 digits) or a placeholder such as `${AWS::AccountId}` or a CDK token. */
  account: string
  /** Default: from the region (`aws`, `aws-cn`, `aws-us-gov`). */
  partition?: string
  /** The services' host suffix in `kms:ViaService`. Default: from the partition. */
  urlSuffix?: string
  /**
   * Customer-managed KMS keys (key ARNs) that encrypt a SecureString or a secret the function reads.
   * AWS managed keys (`aws/ssm`, `aws/secretsmanager`) need none.
   */
  kmsKeyArns?: readonly string[]
}

export interface PolicyStatement {
  Effect: 'Allow'
  Action: string[]
  Resource: string[]
  Condition?: { StringEquals: { 'kms:ViaService': string[] } }
}

export interface PolicyDocument {
  Version: '2012-10-17'
  Statement: PolicyStatement[]
}

export const policyOptionKeys = ['region', 'account', 'partition', 'urlSuffix', 'kmsKeyArns']

const sorted = (items: Iterable<string>) => [...new Set(items)].sort()

const checkKmsKeyArns = (value: unknown, path: string): string[] => {
  if (value === undefined) return []
  if (!Array.isArray(value)) fail(path, `must be an array of KMS key ARNs, got ${describe(value)}`)
  return (value as unknown[]).map((item, index) => {
    const arn = checkText(item, `${path}[${index}]`)
    if (isPlaceholder(arn)) return arn
    if (/^arn:[^:]+:kms:[^:]+:\d{12}:alias\//.test(arn))
      fail(
        `${path}[${index}]`,
        'is an alias ARN: IAM authorizes kms:Decrypt on the key ARN (arn:...:key/<id>)',
      )
    if (!/^arn:[^:]+:kms:[^:]+:\d{12}:key\/[A-Za-z0-9-]+$/.test(arn))
      fail(
        `${path}[${index}]`,
        `must be a KMS key ARN (arn:<partition>:kms:<region>:<account>:key/<id>), got ${describe(arn)}`,
      )
    return arn
  })
}

/** The scope and KMS keys of a policy, checked. */
export const checkPolicyOptions = (options: unknown) => {
  if (!isObject(options)) fail('options', `must be an object, got ${describe(options)}`)
  const { region, account, partition, urlSuffix, kmsKeyArns } = options as Record<string, unknown>
  const scope: Scope = {
    region: checkRegion(region, 'region'),
    account: checkText(account, 'account'),
    partition: '',
  }
  if (!/^\d{12}$/.test(scope.account) && !isPlaceholder(scope.account))
    fail('account', `must be 12 digits or a \${...} placeholder, got ${describe(scope.account)}`)
  scope.partition =
    partition === undefined ? partitionOf(scope.region, 'region') : checkText(partition, 'partition')
  return {
    scope,
    urlSuffix: urlSuffix === undefined ? undefined : checkText(urlSuffix, 'urlSuffix'),
    kmsKeyArns: checkKmsKeyArns(kmsKeyArns, 'kmsKeyArns'),
  }
}

/** The policy document for reads already taken from a configuration, with checked options. */
export const policyFor = (
  sources: readonly Source[],
  checked: ReturnType<typeof checkPolicyOptions>,
): PolicyDocument => {
  const { scope, kmsKeyArns } = checked
  const grants: Grants = { parameters: [], secrets: [] }
  const services = new Set<string>()
  for (const source of sources) {
    if (source.kind === 'secret') {
      grants.secrets.push(secretGrant(scope, source.id, source.path))
      services.add('secretsmanager')
      continue
    }
    const { parameters, secrets } = parameterGrants(scope, source.name, source.path)
    grants.parameters.push(...parameters)
    grants.secrets.push(...secrets)
    services.add('ssm')
    // Which service asks KMS for a secret read through Parameter Store is not documented clearly:
    // both are allowed, as each is already limited to the names granted above.
    if (source.name.includes(referencePrefix)) services.add('secretsmanager')
  }
  const statements: PolicyStatement[] = []
  if (kmsKeyArns.length > 0) {
    const suffix = checked.urlSuffix ?? urlSuffixOf(scope.partition, 'partition')
    statements.push({
      Effect: 'Allow',
      Action: ['kms:Decrypt'],
      Resource: sorted(kmsKeyArns),
      // Only when Parameter Store or Secrets Manager decrypts on the function's behalf: the role cannot
      // use the key directly.
      Condition: {
        StringEquals: {
          'kms:ViaService': sorted([...services].map((service) => `${service}.${scope.region}.${suffix}`)),
        },
      },
    })
  }
  if (grants.secrets.length > 0)
    statements.push({
      Effect: 'Allow',
      Action: ['secretsmanager:GetSecretValue'],
      Resource: sorted(grants.secrets),
    })
  if (grants.parameters.length > 0)
    statements.push({ Effect: 'Allow', Action: ['ssm:GetParameter'], Resource: sorted(grants.parameters) })
  return { Version: '2012-10-17', Statement: statements }
}

/**
 * The IAM policy document that lets a function read exactly what its `fetchData` names through the
 * extension: `ssm:GetParameter` on each parameter, `secretsmanager:GetSecretValue` on each secret (also
 * for a parameter under `/aws/reference/secretsmanager/`), `kms:Decrypt` on the given customer-managed
 * keys only via those services. Statements are sorted by action and their resources sorted and unique,
 * so the same configuration always gives the same document.
 *
 * @throws TypeError naming the option path, such as `fetchData.db.secret` or `kmsKeyArns[0]`
 */
export function extensionPolicy(config: DeploymentConfig, options: PolicyOptions): PolicyDocument {
  if (isObject(options)) checkKnownKeys(options, policyOptionKeys, 'options')
  const checked = checkPolicyOptions(options)
  return policyFor(readConfig(config).sources, checked)
}
