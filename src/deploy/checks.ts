// Option checks for the deployment helpers. They repeat a few lines of src/checks.ts on purpose: this
// subpath must not load the middleware's modules (a CDK app or a build script imports it, not a handler),
// and its messages name the same option paths.

export const fail = (path: string, problem: string): never => {
  throw new TypeError(`middy-extension-secrets/deploy: \`${path}\` ${problem}`)
}

export const describe = (value: unknown): string => {
  if (typeof value === 'string') return value.length > 60 ? 'a long string' : JSON.stringify(value)
  if (typeof value === 'number' || typeof value === 'boolean' || value == null) return String(value)
  if (Array.isArray(value)) return 'an array'
  return `a ${typeof value}`
}

export const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value)

export const checkText = (value: unknown, path: string): string => {
  if (typeof value !== 'string' || value.length === 0)
    fail(path, `must be a non-empty string, got ${describe(value)}`)
  return value as string
}

export const checkInteger = (value: unknown, path: string, min: number, max: number): number => {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max)
    fail(path, `must be an integer from ${min} to ${max}, got ${describe(value)}`)
  return value as number
}

export const checkBoolean = (value: unknown, path: string): boolean => {
  if (typeof value !== 'boolean') fail(path, `must be true or false, got ${describe(value)}`)
  return value as boolean
}

export const checkKnownKeys = (value: object, known: readonly string[], path: string) => {
  for (const key of Object.keys(value)) {
    if (!known.includes(key)) fail(`${path}.${key}`, `is not a known option; known: ${known.join(', ')}`)
  }
}

/** `${...}` marks a value resolved at deploy time: a CloudFormation or Serverless placeholder, a CDK token. */
export const isPlaceholder = (text: string) => text.includes('${')
