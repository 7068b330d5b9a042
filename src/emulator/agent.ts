import type { Flavour, Read, Refusal, RequestFacts } from './flavour.js'
import { lookupSecret, type UpstreamFailure } from './lookup.js'
import { agentTokenBody, secretPath, tokenHeader, vaultTokenHeader } from './protocol.js'

// The AWS Secrets Manager Agent (open source, Rust): server.rs for the checks and their order, parse.rs
// for the query, cache_manager.rs for the error bodies, output.rs for the success body.

const refusal = (status: number, body: string, diagnosis: string): Refusal => ({
  kind: 'refusal',
  status,
  body,
  diagnosis,
})

const pingPath = '/ping'

export function agentFlavour(maxConn: number): Flavour {
  return {
    name: 'agent',
    tokenHeaders: [tokenHeader, vaultTokenHeader],
    // hyper sends no Content-Type when the agent sets none.
    contentType: null,
    errorSuffix: '',
    check(facts) {
      const { request, path } = facts
      // Health checks get two connections beyond the limit, so a full agent still answers them.
      const limit = path === pingPath ? maxConn + 2 : maxConn
      if (facts.openConnections > limit) return refusal(429, 'Connection limit exceeded', 'connection limit')
      if (path !== pingPath) {
        // An SSRF guard: a proxy that forwards a request adds this header.
        if (request.headers['x-forwarded-for'] !== undefined) return refusal(400, 'Forwarded', 'forwarded')
        if (!facts.tokenAccepted([tokenHeader, vaultTokenHeader]))
          return refusal(403, agentTokenBody, 'bad token')
      }
      if (request.method !== 'GET') return refusal(405, 'Not allowed', 'bad request')
      if (path === pingPath) return refusal(200, 'healthy', 'health check')
      // The agent serves secrets only: Parameter Store paths are unknown to it.
      if (path !== secretPath) return refusal(404, 'Not found', 'bad request')
      return secretRead(facts)
    },
    failure: (failure) => ({ status: failure.status, body: errorBody(failure) }),
  }
}

function secretRead({ query }: RequestFacts): Refusal | Read {
  let secretId = ''
  let versionId: string | null = null
  let versionStage: string | null = null
  let refreshNow = false
  // Every pair in order: a repeated parameter's last value wins, and the first bad one answers.
  for (const [key, value] of query) {
    if (key === 'secretId') secretId = value
    else if (key === 'versionId') versionId = value
    else if (key === 'versionStage') versionStage = value
    else if (key === 'refreshNow') {
      const flag = value.toLowerCase()
      if (!['true', '1', 'false', '0'].includes(flag)) {
        return refusal(400, 'invalid refreshNow value', 'bad request')
      }
      refreshNow = flag === 'true' || flag === '1'
    } else return refusal(400, `unknown parameter: ${key}`, 'bad request')
  }
  if (secretId === '') return refusal(400, 'missing parameter secretId', 'bad request')
  const selectors: [string, string][] = []
  if (versionId !== null) selectors.push(['versionId', versionId])
  if (versionStage !== null) selectors.push(['versionStage', versionStage])
  if (refreshNow) selectors.push(['refreshNow', 'true'])
  return {
    kind: 'read',
    service: 'secret',
    operation: 'GetSecretValue',
    name: secretId,
    selectors,
    // The agent's cache holds a secret per id and version or stage, whatever the query's spelling.
    cacheKey: JSON.stringify([secretId, versionId, versionStage]),
    refreshNow,
    lookup(store, arns) {
      const found = lookupSecret(store, arns, secretId, versionId, versionStage)
      if ('failure' in found) return found
      const { secret, version } = found
      // serde: absent fields left out, CreatedDate as a string of epoch seconds, no ResultMetadata.
      return {
        body: JSON.stringify({
          ARN: `arn:aws:secretsmanager:${arns.region}:${arns.accountId}:secret:${secret.name}-${secret.arnSuffix}`,
          Name: secret.name,
          VersionId: version.versionId,
          ...(version.secretString === null ? {} : { SecretString: version.secretString }),
          ...(version.secretBinary === null ? {} : { SecretBinary: version.secretBinary.toString('base64') }),
          VersionStages: [...version.stages],
          CreatedDate: String(version.created.getTime() / 1000),
        }),
      }
    },
  }
}

/**
 * `{"__type":"…","message":"…"}`, built by the agent with format!, so the message is not escaped: a
 * quote in it makes the body invalid JSON, as on the agent. A network failure has its own status:
 * 504 for a timeout, 502 for a read error.
 */
function errorBody(failure: UpstreamFailure): string {
  return `{"__type":"${failure.type}","message":"${failure.message}"}`
}
