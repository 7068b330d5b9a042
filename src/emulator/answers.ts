import { goJson, goTimestamp, gsonDate, gsonJson } from './encoding.js'
import { fakeCiphertext } from './ids.js'
import { secretReferencePrefix, upstreamErrorBody } from './protocol.js'
import type { CompiledParameter, CompiledSecret, CompiledSecretVersion, ValueStore } from './values.js'

export interface Answer {
  status: number
  body: string
}

export interface Account {
  region: string
  accountId: string
}

const upstreamError: Answer = { status: 400, body: upstreamErrorBody }

const ok = (response: unknown): Answer => ({ status: 200, body: goJson(response) })

/** `GET /secretsmanager/get?secretId=..&versionId=..&versionStage=..` */
export function answerSecret(store: ValueStore, account: Account, query: URLSearchParams): Answer {
  const secretId = query.get('secretId')
  if (!secretId) return { status: 400, body: 'missing parameter secretId' }
  const secret = findSecret(store, account, secretId)
  const version = secret && secretVersion(secret, query.get('versionId'), query.get('versionStage'))
  if (!secret || !version) return upstreamError
  return ok({ ...secretValue(secret, version, account), ResultMetadata: {} })
}

/** `GET /systemsmanager/parameters/get?name=..&version=..|label=..&withDecryption=true` */
export function answerParameter(store: ValueStore, account: Account, query: URLSearchParams): Answer {
  const name = query.get('name')
  if (!name) return { status: 400, body: 'missing parameter name' }
  const selector = firstSelector(query)
  const withDecryption = query.get('withDecryption') === 'true'
  if (name.startsWith(secretReferencePrefix)) {
    return answerSecretReference(store, account, name, selector, withDecryption)
  }
  const parameter = findParameter(store, account, name)
  if (!parameter) return upstreamError
  const number = versionNumber(parameter, selector)
  const version = number === undefined ? undefined : parameter.versions[number - 1]
  if (number === undefined || !version) return upstreamError
  const encrypted = parameter.type === 'SecureString' && !withDecryption
  return ok({
    Parameter: {
      ARN: parameterArn(parameter.name, account),
      DataType: parameter.dataType,
      LastModifiedDate: goTimestamp(version.lastModified),
      Name: parameter.name,
      Selector: selector ? `:${selector.value}` : null,
      SourceResult: null,
      Type: parameter.type,
      Value: encrypted ? fakeCiphertext(parameter.name, number) : version.value,
      Version: number,
    },
    ResultMetadata: {},
  })
}

function answerSecretReference(
  store: ValueStore,
  account: Account,
  name: string,
  selector: Selector | undefined,
  withDecryption: boolean,
): Answer {
  // Parameter Store refuses to read a secret without decryption.
  if (!withDecryption) return upstreamError
  const secret = findSecret(store, account, name.slice(secretReferencePrefix.length))
  const version =
    secret &&
    (selector === undefined
      ? secretVersion(secret, null, null)
      : (secretVersion(secret, null, selector.value) ?? secretVersion(secret, selector.value, null)))
  if (!secret || !version) return upstreamError
  return ok({
    Parameter: {
      ARN: secretArn(secret, account),
      DataType: null,
      LastModifiedDate: goTimestamp(version.created),
      Name: name,
      Selector: selector ? `:${selector.value}` : null,
      SourceResult: sourceResult(secret, version, account),
      Type: 'SecureString',
      Value: version.secretString,
      Version: 0,
    },
    ResultMetadata: {},
  })
}

function secretValue(secret: CompiledSecret, version: CompiledSecretVersion, account: Account) {
  return {
    ARN: secretArn(secret, account),
    CreatedDate: goTimestamp(version.created),
    Name: secret.name,
    SecretBinary: version.secretBinary?.toString('base64') ?? null,
    SecretString: version.secretString,
    VersionId: version.versionId,
    VersionStages: [...version.stages],
  }
}

/**
 * Captures of the real layer show the secret serialized by a Java service, not the Go shape:
 * camelCase keys, absent fields left out, a locale date, and binary bytes as a dump of a Java
 * `ByteBuffer` (signed bytes in `hb`).
 */
function sourceResult(secret: CompiledSecret, version: CompiledSecretVersion, account: Account): string {
  const bytes = version.secretBinary
  return gsonJson({
    ARN: secretArn(secret, account),
    name: secret.name,
    versionId: version.versionId,
    ...(version.secretString === null ? {} : { secretString: version.secretString }),
    ...(bytes === null
      ? {}
      : {
          secretBinary: {
            hb: [...bytes].map((byte) => (byte > 127 ? byte - 256 : byte)),
            offset: 0,
            isReadOnly: false,
            bigEndian: true,
            nativeByteOrder: false,
            mark: -1,
            position: 0,
            limit: bytes.length,
            capacity: bytes.length,
            address: 16,
          },
        }),
    versionStages: [...version.stages],
    createdDate: gsonDate(version.created),
  })
}

interface Selector {
  kind: 'version' | 'label'
  value: string
}

/** The layer honours only the first of `version` and `label` in the query. */
function firstSelector(query: URLSearchParams): Selector | undefined {
  for (const [key, value] of query) {
    if (key === 'version' || key === 'label') return { kind: key, value }
  }
  return undefined
}

function versionNumber(parameter: CompiledParameter, selector: Selector | undefined): number | undefined {
  if (selector === undefined) return parameter.versions.length
  if (selector.kind === 'label') return parameter.labels.get(selector.value)
  return /^[1-9][0-9]{0,8}$/.test(selector.value) ? Number(selector.value) : undefined
}

function secretVersion(
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

function findSecret(store: ValueStore, account: Account, secretId: string): CompiledSecret | undefined {
  let secret = store.secrets.get(secretId)
  const arnPrefix = `arn:aws:secretsmanager:${account.region}:${account.accountId}:secret:`
  if (!secret && secretId.startsWith(arnPrefix)) {
    const nameAndSuffix = secretId.slice(arnPrefix.length)
    const candidate = store.secrets.get(nameAndSuffix.slice(0, -7))
    if (candidate && nameAndSuffix === `${candidate.name}-${candidate.arnSuffix}`) secret = candidate
  }
  return secret && !store.denied.has(secret.name) ? secret : undefined
}

function findParameter(store: ValueStore, account: Account, name: string): CompiledParameter | undefined {
  let parameter = store.parameters.get(name)
  const arnPrefix = `arn:aws:ssm:${account.region}:${account.accountId}:parameter/`
  if (!parameter && name.startsWith(arnPrefix)) {
    const path = name.slice(arnPrefix.length)
    parameter = store.parameters.get(`/${path}`) ?? store.parameters.get(path)
  }
  return parameter && !store.denied.has(parameter.name) ? parameter : undefined
}

export function secretArn(secret: CompiledSecret, account: Account): string {
  return `arn:aws:secretsmanager:${account.region}:${account.accountId}:secret:${secret.name}-${secret.arnSuffix}`
}

export function parameterArn(name: string, account: Account): string {
  return `arn:aws:ssm:${account.region}:${account.accountId}:parameter/${name.replace(/^\//, '')}`
}
