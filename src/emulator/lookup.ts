import type { CompiledParameter, CompiledSecret, CompiledSecretVersion, ValueStore } from './values.js'

// What Secrets Manager and Parameter Store would answer the extension: a value, or an AWS error. How it
// reaches the client (the layer's generic 400, the agent's status and JSON) is the flavour's business.

export interface Arns {
  region: string
  accountId: string
}

/** An AWS error as the service names it; `diagnosis` is what the command's log line says. */
export interface UpstreamFailure {
  type: string
  message: string
  /** The HTTP status AWS answers it with. */
  status: number
  diagnosis: 'unknown name' | 'denied' | 'invalid request' | 'throttled' | 'timeout'
}

export interface Selector {
  kind: 'version' | 'label'
  value: string
}

export type SecretLookup =
  | { secret: CompiledSecret; version: CompiledSecretVersion }
  | { failure: UpstreamFailure }

export type ParameterLookup = { parameter: CompiledParameter; number: number } | { failure: UpstreamFailure }

const notFound = (type: string, message: string): { failure: UpstreamFailure } => ({
  failure: { type, message, status: 400, diagnosis: 'unknown name' },
})

const denied = (arns: Arns, action: string, resource: string): { failure: UpstreamFailure } => ({
  failure: {
    type: 'AccessDeniedException',
    message: `User: arn:aws:sts::${arns.accountId}:assumed-role/emulated-function-role/emulated-function is not authorized to perform: ${action} on resource: ${resource} because no identity-based policy allows the ${action} action`,
    status: 400,
    diagnosis: 'denied',
  },
})

export const throttled: UpstreamFailure = {
  type: 'ThrottlingException',
  message: 'Rate exceeded',
  status: 400,
  diagnosis: 'throttled',
}

/** What an SDK reports when the upstream call outlives its timeout; the agent maps it to 504. */
export const timedOut: UpstreamFailure = {
  type: 'TimeoutError',
  message: 'Timeout',
  status: 504,
  diagnosis: 'timeout',
}

export function lookupSecret(
  store: ValueStore,
  arns: Arns,
  secretId: string,
  versionId: string | null,
  versionStage: string | null,
): SecretLookup {
  const secret = findSecret(store, arns, secretId)
  if (!secret)
    return notFound('ResourceNotFoundException', "Secrets Manager can't find the specified secret.")
  if (store.denied.has(secret.name))
    return denied(arns, 'secretsmanager:GetSecretValue', secretArn(secret, arns))
  const version = secretVersion(secret, versionId, versionStage)
  if (!version) {
    const which = versionId === null ? `staging label: ${versionStage}` : `VersionId: ${versionId}`
    return notFound(
      'ResourceNotFoundException',
      `Secrets Manager can't find the specified secret value for ${which}`,
    )
  }
  return { secret, version }
}

export function lookupParameter(
  store: ValueStore,
  arns: Arns,
  name: string,
  selector: Selector | undefined,
): ParameterLookup {
  const parameter = findParameter(store, arns, name)
  if (!parameter) return notFound('ParameterNotFound', '')
  if (store.denied.has(parameter.name)) {
    return denied(arns, 'ssm:GetParameter', parameterArn(parameter.name, arns))
  }
  const number = versionNumber(parameter, selector)
  if (number === undefined || !parameter.versions[number - 1]) {
    return notFound(
      'ParameterVersionNotFound',
      `Systems Manager could not find version ${selector?.value} of ${name}.`,
    )
  }
  return { parameter, number }
}

function versionNumber(parameter: CompiledParameter, selector: Selector | undefined): number | undefined {
  if (selector === undefined) return parameter.versions.length
  if (selector.kind === 'label') return parameter.labels.get(selector.value)
  return /^[1-9][0-9]{0,8}$/.test(selector.value) ? Number(selector.value) : undefined
}

export function secretVersion(
  secret: CompiledSecret,
  versionId: string | null,
  versionStage: string | null,
): CompiledSecretVersion | undefined {
  // Secrets Manager answers only when both point at the same version.
  if (versionId !== null) {
    const version = secret.versions.find((candidate) => candidate.versionId === versionId)
    return versionStage === null || version?.stages.includes(versionStage) ? version : undefined
  }
  const stage = versionStage ?? 'AWSCURRENT'
  return secret.versions.find((candidate) => candidate.stages.includes(stage))
}

/**
 * By name, by full ARN (name and the six-character suffix) or by partial ARN (without the suffix), as
 * Secrets Manager accepts. An ARN of another account or region names nothing here.
 */
export function findSecret(store: ValueStore, arns: Arns, secretId: string): CompiledSecret | undefined {
  if (!secretId.startsWith('arn:')) return store.secrets.get(secretId)
  const arnPrefix = `arn:aws:secretsmanager:${arns.region}:${arns.accountId}:secret:`
  if (!secretId.startsWith(arnPrefix)) return undefined
  const rest = secretId.slice(arnPrefix.length)
  const full = store.secrets.get(rest.slice(0, -7))
  if (full && rest === `${full.name}-${full.arnSuffix}`) return full
  return store.secrets.get(rest)
}

/** By name or by the full ARN of this account and region; another account's ARN names nothing here. */
function findParameter(store: ValueStore, arns: Arns, name: string): CompiledParameter | undefined {
  if (!name.startsWith('arn:')) return store.parameters.get(name)
  const arnPrefix = `arn:aws:ssm:${arns.region}:${arns.accountId}:parameter/`
  if (!name.startsWith(arnPrefix)) return undefined
  const path = name.slice(arnPrefix.length)
  return store.parameters.get(`/${path}`) ?? store.parameters.get(path)
}

export function secretArn(secret: CompiledSecret, arns: Arns): string {
  return `arn:aws:secretsmanager:${arns.region}:${arns.accountId}:secret:${secret.name}-${secret.arnSuffix}`
}

export function parameterArn(name: string, arns: Arns): string {
  return `arn:aws:ssm:${arns.region}:${arns.accountId}:parameter/${name.replace(/^\//, '')}`
}
