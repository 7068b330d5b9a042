/** The header that carries the function's `AWS_SESSION_TOKEN` on every request. */
export const tokenHeader = 'x-aws-parameters-secrets-token'

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
