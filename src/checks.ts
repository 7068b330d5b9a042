// Small validators for options. Each throws a TypeError whose message starts with the option's path, so
// a typo or a bad value is found when the middleware is created, never in an invocation.

export const fail = (path: string, problem: string): never => {
  throw new TypeError(`middy-extension-secrets: \`${path}\` ${problem}`)
}

export const describe = (value: unknown): string => {
  if (typeof value === 'string') return value.length > 40 ? 'a long string' : JSON.stringify(value)
  if (typeof value === 'number' || typeof value === 'boolean' || value == null) return String(value)
  return Array.isArray(value) ? 'an array' : `a ${typeof value}`
}

/** An object literal (or a null-prototype object), not an array, a class instance or a function. */
export const isPlainObject = (value: unknown): value is Record<string, unknown> => {
  if (typeof value !== 'object' || value === null) return false
  const proto = Object.getPrototypeOf(value)
  return proto === Object.prototype || proto === null
}

export const checkKeys = (value: object, known: readonly string[], path: string) => {
  for (const key of Object.keys(value))
    if (!known.includes(key)) fail(`${path}${key}`, `is not a known option; known: ${known.join(', ')}`)
}

export const checkInteger = (value: unknown, path: string, min: number, max = 2_147_483_647): number => {
  if (!Number.isInteger(value) || (value as number) < min || (value as number) > max)
    fail(path, `must be an integer from ${min} to ${max}, got ${describe(value)}`)
  return value as number
}

export const checkBoolean = (value: unknown, path: string): boolean => {
  if (typeof value !== 'boolean') fail(path, `must be true or false, got ${describe(value)}`)
  return value as boolean
}

export const checkText = (value: unknown, path: string): string => {
  if (typeof value !== 'string' || value.length === 0)
    fail(path, `must be a non-empty string, got ${describe(value)}`)
  if (!(value as string).isWellFormed())
    fail(path, 'is not well-formed UTF-16 (a lone surrogate cannot be URL-encoded)')
  return value as string
}

export const checkFunction = (value: unknown, path: string, shape: string) => {
  if (typeof value !== 'function') fail(path, `must be a function ${shape}, got ${describe(value)}`)
  return value as (...args: never[]) => unknown
}
