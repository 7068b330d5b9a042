/** The header that carries the function's `AWS_SESSION_TOKEN` on every request. */
export const tokenHeader = 'x-aws-parameters-secrets-token'

/** The agent also reads the token from this header (config.rs, `ssrf_headers`). */
export const vaultTokenHeader = 'x-vault-token'

/** Body of the layer's 401 for a wrong or missing token (AWS Lambda developer guide, SnapStart troubleshooting). */
export const layerTokenBody = 'Bad session token or header key'

/** Body of the agent's 403 for a wrong or missing token (server.rs). */
export const agentTokenBody = 'Bad Token'

/** Body of the 400 the layer sends while it is not ready (during INIT, or early in the first invoke). */
export const notReadyBody = 'not ready to serve traffic, please wait'

/**
 * Body of the 400 the layer sends for anything that failed upstream: not found, access denied, bad
 * version, label or stage, throttling. The real cause only reaches the function's CloudWatch logs.
 */
export const upstreamErrorBody = 'an unexpected error occurred while executing request'

export const secretPath = '/secretsmanager/get'
export const parameterPaths: readonly string[] = [
  '/systemsmanager/parameters/get',
  '/systemsmanager/parameters/get/',
]
export const secretReferencePrefix = '/aws/reference/secretsmanager/'

export type Service = 'parameter' | 'secret'

export function serviceOf(path: string): Service | undefined {
  if (path === secretPath) return 'secret'
  if (parameterPaths.includes(path)) return 'parameter'
  return undefined
}
