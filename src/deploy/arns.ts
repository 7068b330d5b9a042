import { fail } from './checks.js'

// The IAM resources one read needs. IAM matches these ARNs literally (with * and ? as wildcards), so
// each form of name the extension accepts is turned into the exact ARN AWS authorizes.

export interface Scope {
  partition: string
  region: string
  account: string
}

export interface Grants {
  parameters: string[]
  secrets: string[]
}

/** Parameter Store's path through which it reads a Secrets Manager secret. */
export const referencePrefix = '/aws/reference/secretsmanager/'

const noWildcards = (text: string, path: string) => {
  // A name never contains them (neither service allows * or ? in names); in a policy they would
  // widen the grant to other names.
  if (/[*?]/.test(text)) fail(path, 'contains * or ?, which IAM reads as wildcards; name one value exactly')
}

/** `name`, `name:3`, `name:label`: GetParameter takes a selector after the name; IAM sees only the name. */
const withoutSelector = (name: string) => name.split(':')[0]!

const parameterArn = ({ partition, region, account }: Scope, name: string) =>
  // Public parameters (`/aws/service/...`) belong to AWS: their ARNs have an empty account.
  `arn:${partition}:ssm:${region}:${name.startsWith('/aws/service/') ? '' : account}:parameter${name.startsWith('/') ? '' : '/'}${name}`

export const secretGrant = (scope: Scope, id: string, path: string): string => {
  noWildcards(id, path)
  if (id.startsWith('arn:')) {
    const parts = id.split(':')
    if (parts.length !== 7 || parts[2] !== 'secretsmanager' || parts[5] !== 'secret' || parts[6] === '')
      fail(
        path,
        'is an ARN but not a secret ARN (arn:<partition>:secretsmanager:<region>:<account>:secret:<name>-<6 characters>)',
      )
    // A complete ARN ends with the dash and six characters AWS appended; without them it is a partial
    // ARN, which GetSecretValue accepts but IAM never matches.
    return /-[A-Za-z0-9]{6}$/.test(parts[6]!) ? id : `${id}-??????`
  }
  // Secrets Manager appends a dash and six random characters to the name in the secret's ARN.
  return `arn:${scope.partition}:secretsmanager:${scope.region}:${scope.account}:secret:${id}-??????`
}

export const parameterGrants = (scope: Scope, name: string, path: string): Grants => {
  noWildcards(name, path)
  if (name.startsWith('arn:')) {
    const parts = name.split(':')
    if (parts.length < 6 || parts[2] !== 'ssm' || !/^parameter\/./.test(parts[5]!))
      fail(
        path,
        'is an ARN but not a parameter ARN (arn:<partition>:ssm:<region>:<account>:parameter/<name>)',
      )
    const inner = parts.slice(5).join(':').slice('parameter'.length)
    const [, partition, , region, account] = parts as [string, string, string, string, string]
    if (inner.startsWith(referencePrefix)) return referenceGrants({ partition, region, account }, inner, path)
    // The ARN as given, without a selector (`:3`, `:label`) after the name.
    return { parameters: [parts.slice(0, 6).join(':')], secrets: [] }
  }
  if (name.startsWith(referencePrefix)) return referenceGrants(scope, name, path)
  return { parameters: [parameterArn(scope, withoutSelector(name))], secrets: [] }
}

/**
 * Reading a secret through Parameter Store: GetParameter on the reference path, and the secret's own
 * GetSecretValue, which Parameter Store calls with the function's credentials.
 */
const referenceGrants = (scope: Scope, name: string, path: string): Grants => {
  const id = name.slice(referencePrefix.length)
  // The secret id may be an ARN, whose colons are not a selector.
  const secretId = id.startsWith('arn:') ? id.split(':').slice(0, 7).join(':') : withoutSelector(id)
  if (secretId === '') fail(path, `names no secret after ${referencePrefix}`)
  return {
    parameters: [parameterArn(scope, `${referencePrefix}${secretId}`)],
    secrets: [secretGrant(scope, secretId, path)],
  }
}
