import { fail, isRecord, rejectUnknownKeys } from './check.js'
import { goJson, goTimestamp, gsonDate, gsonJson } from './encoding.js'
import type { Flavour, Read, Refusal, RequestFacts } from './flavour.js'
import { fakeCiphertext } from './ids.js'
import {
  type Arns,
  findSecret,
  lookupParameter,
  lookupSecret,
  parameterArn,
  type Selector,
  secretArn,
  secretVersion,
  type UpstreamFailure,
} from './lookup.js'
import {
  layerTokenBody,
  secretReferencePrefix,
  serviceOf,
  tokenHeader,
  upstreamErrorBody,
} from './protocol.js'
import type { CompiledSecret, CompiledSecretVersion } from './values.js'

/**
 * Behaviours no public source shows for the layer. Each default is the best evidence there is; the other
 * choice is here so a client can be tested against it. docs/emulator.md tabulates them.
 */
export interface UnconfirmedLayerBehaviour {
  /** Answer `400 Forwarded` to an `X-Forwarded-For` header, before the token, as the agent does. Default false. */
  forwardedCheck?: boolean
  /** `token-first` (default): the token, then method and path; `route-first`: method and path first. */
  checkOrder?: 'token-first' | 'route-first'
  /** `ignore` (default) an unknown query parameter, or `reject` it with `400 unknown parameter: NAME` as the agent does. */
  unknownParameters?: 'ignore' | 'reject'
  /** With both `version` and `label`: `first` (default) honours the first one, `reject` answers the generic 400. */
  versionWithLabel?: 'first' | 'reject'
  /** Content-Type of every answer. Default `text/plain; charset=utf-8` (what Go sends for a body without one); null sends none. */
  contentType?: string | null
  /** How long an idle keep-alive connection stays open, in ms. Default 5000; 0 keeps it open. */
  keepAliveTimeoutMs?: number
  /** End every error body with a newline, as Go's `http.Error` does. Default false. */
  errorNewline?: boolean
}

export type ResolvedUnconfirmed = Required<UnconfirmedLayerBehaviour>

const unconfirmedDefaults: ResolvedUnconfirmed = {
  forwardedCheck: false,
  checkOrder: 'token-first',
  unknownParameters: 'ignore',
  versionWithLabel: 'first',
  contentType: 'text/plain; charset=utf-8',
  keepAliveTimeoutMs: 5_000,
  errorNewline: false,
}

/** @throws TypeError naming the switch, e.g. `unconfirmed.checkOrder: expected ...` */
export function resolveUnconfirmed(input: unknown): ResolvedUnconfirmed {
  if (input === undefined) return unconfirmedDefaults
  if (!isRecord(input)) fail('unconfirmed', 'expected an object')
  rejectUnknownKeys(input, Object.keys(unconfirmedDefaults), 'unconfirmed')
  const resolved = { ...unconfirmedDefaults, ...input } as ResolvedUnconfirmed
  const oneOf = (key: keyof ResolvedUnconfirmed, allowed: unknown[]) => {
    if (!allowed.includes(resolved[key]))
      fail(`unconfirmed.${key}`, `expected ${allowed.map(String).join(' or ')}`)
  }
  oneOf('forwardedCheck', [true, false])
  oneOf('checkOrder', ['token-first', 'route-first'])
  oneOf('unknownParameters', ['ignore', 'reject'])
  oneOf('versionWithLabel', ['first', 'reject'])
  oneOf('errorNewline', [true, false])
  if (
    resolved.contentType !== null &&
    (typeof resolved.contentType !== 'string' || resolved.contentType === '')
  ) {
    fail('unconfirmed.contentType', 'expected a non-empty string or null')
  }
  const idle = resolved.keepAliveTimeoutMs
  if (typeof idle !== 'number' || !Number.isInteger(idle) || idle < 0) {
    fail('unconfirmed.keepAliveTimeoutMs', 'expected a non-negative integer of milliseconds')
  }
  return resolved
}

const secretParameters = ['secretId', 'versionId', 'versionStage']
const parameterParameters = ['name', 'version', 'label', 'withDecryption']
const refusal = (status: number, body: string, diagnosis: string): Refusal => ({
  kind: 'refusal',
  status,
  body,
  diagnosis,
})

/** The AWS Parameters and Secrets Lambda Extension, as documented and as captures show it. */
export function layerFlavour(unconfirmed: ResolvedUnconfirmed): Flavour {
  const routeError = ({ request, path }: RequestFacts): Refusal | undefined => {
    if (request.method !== 'GET') return refusal(405, 'Not allowed', 'bad request')
    if (serviceOf(path) === undefined) return refusal(404, 'Not found', 'bad request')
    return undefined
  }
  const tokenError = (facts: RequestFacts): Refusal | undefined =>
    facts.tokenAccepted([tokenHeader]) ? undefined : refusal(401, layerTokenBody, 'bad token')
  return {
    name: 'layer',
    tokenHeaders: [tokenHeader],
    contentType: unconfirmed.contentType,
    errorSuffix: unconfirmed.errorNewline ? '\n' : '',
    check(facts) {
      if (unconfirmed.forwardedCheck && facts.request.headers['x-forwarded-for'] !== undefined) {
        return refusal(400, 'Forwarded', 'forwarded')
      }
      const first =
        unconfirmed.checkOrder === 'token-first' ? [tokenError, routeError] : [routeError, tokenError]
      for (const check of first) {
        const error = check(facts)
        if (error) return error
      }
      const { query } = facts
      const service = serviceOf(facts.path)!
      if (unconfirmed.unknownParameters === 'reject') {
        const known = service === 'secret' ? secretParameters : parameterParameters
        for (const key of query.keys()) {
          if (!known.includes(key)) return refusal(400, `unknown parameter: ${key}`, 'bad request')
        }
      }
      return service === 'secret' ? secretRead(facts) : parameterRead(facts, unconfirmed)
    },
    failure: () => ({ status: 400, body: upstreamErrorBody }),
  }
}

function secretRead({ query, request }: RequestFacts): Refusal | Read {
  // Go's Query().Get: the first value of a repeated parameter.
  const secretId = query.get('secretId')
  if (!secretId) return refusal(400, 'missing parameter secretId', 'bad request')
  const versionId = query.get('versionId')
  const versionStage = query.get('versionStage')
  return {
    kind: 'read',
    service: 'secret',
    operation: 'GetSecretValue',
    name: secretId,
    selectors: selectorsOf(query, ['versionId', 'versionStage']),
    cacheKey: request.url ?? '',
    refreshNow: false,
    lookup(store, arns) {
      const found = lookupSecret(store, arns, secretId, versionId, versionStage)
      if ('failure' in found) return found
      return { body: goJson({ ...secretValue(found.secret, found.version, arns), ResultMetadata: {} }) }
    },
  }
}

function parameterRead({ query, request }: RequestFacts, unconfirmed: ResolvedUnconfirmed): Refusal | Read {
  const name = query.get('name')
  if (!name) return refusal(400, 'missing parameter name', 'bad request')
  const selector = firstSelector(query)
  const both = query.has('version') && query.has('label')
  const withDecryption = query.get('withDecryption') === 'true'
  return {
    kind: 'read',
    service: 'parameter',
    operation: 'GetParameter',
    name,
    selectors: selectorsOf(query, ['version', 'label', 'withDecryption']),
    cacheKey: request.url ?? '',
    refreshNow: false,
    lookup(store, arns) {
      if (both && unconfirmed.versionWithLabel === 'reject') return { failure: invalid('version and label') }
      if (name.startsWith(secretReferencePrefix)) {
        return secretReference(store, arns, name, selector, withDecryption)
      }
      const found = lookupParameter(store, arns, name, selector)
      if ('failure' in found) return found
      const { parameter, number } = found
      const version = parameter.versions[number - 1]!
      const encrypted = parameter.type === 'SecureString' && !withDecryption
      return {
        body: goJson({
          Parameter: {
            ARN: parameterArn(parameter.name, arns),
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
        }),
      }
    },
  }
}

const invalid = (what: string): UpstreamFailure => ({
  type: 'ValidationException',
  message: `invalid request: ${what}`,
  status: 400,
  diagnosis: 'invalid request',
})

function secretReference(
  store: Parameters<Read['lookup']>[0],
  arns: Arns,
  name: string,
  selector: Selector | undefined,
  withDecryption: boolean,
): { body: string } | { failure: UpstreamFailure } {
  // Parameter Store refuses to read a secret without decryption.
  if (!withDecryption) {
    return { failure: invalid('WithDecryption flag must be True for retrieving a Secret Manager secret') }
  }
  const secretId = name.slice(secretReferencePrefix.length)
  const secret = findSecret(store, arns, secretId)
  if (secret && !store.denied.has(secret.name)) {
    const version =
      selector === undefined
        ? secretVersion(secret, null, null)
        : (secretVersion(secret, null, selector.value) ?? secretVersion(secret, selector.value, null))
    if (version) {
      return {
        body: goJson({
          Parameter: {
            ARN: secretArn(secret, arns),
            DataType: null,
            LastModifiedDate: goTimestamp(version.created),
            Name: name,
            Selector: selector ? `:${selector.value}` : null,
            SourceResult: sourceResult(secret, version, arns),
            Type: 'SecureString',
            Value: version.secretString,
            Version: 0,
          },
          ResultMetadata: {},
        }),
      }
    }
  }
  // The failure of the secret itself, as Parameter Store passes it on.
  const found = lookupSecret(store, arns, secretId, null, selector?.value ?? null)
  return 'failure' in found
    ? found
    : { failure: { ...invalid('version'), type: 'ParameterVersionNotFound', diagnosis: 'unknown name' } }
}

function secretValue(secret: CompiledSecret, version: CompiledSecretVersion, arns: Arns) {
  return {
    ARN: secretArn(secret, arns),
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
function sourceResult(secret: CompiledSecret, version: CompiledSecretVersion, arns: Arns): string {
  const bytes = version.secretBinary
  return gsonJson({
    ARN: secretArn(secret, arns),
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

/** The layer honours only the first of `version` and `label` in the query. */
function firstSelector(query: URLSearchParams): Selector | undefined {
  for (const [key, value] of query) {
    if (key === 'version' || key === 'label') return { kind: key, value }
  }
  return undefined
}

export function selectorsOf(query: URLSearchParams, names: readonly string[]): [string, string][] {
  const selectors: [string, string][] = []
  for (const [key, value] of query) if (names.includes(key)) selectors.push([key, value])
  return selectors
}
