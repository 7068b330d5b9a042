import type { StandardSchemaV1 } from './standard-schema.js'

// Small validators for options. Each throws a TypeError whose message starts with the option's path,
// so a typo or a bad value is found at creation, never at invocation.

export const fail = (path: string, problem: string): never => {
  throw new TypeError(`middy-extension-secrets: \`${path}\` ${problem}`)
}

export const isPlainObject = (value: unknown): value is Record<string, unknown> => {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false
  const proto = Object.getPrototypeOf(value)
  return proto === Object.prototype || proto === null
}

export const checkKnownKeys = (value: Record<string, unknown>, known: readonly string[], path: string) => {
  for (const key of Object.keys(value)) {
    if (!known.includes(key)) fail(`${path}.${key}`, `is not a known option; known: ${known.join(', ')}`)
  }
}

export const checkInteger = (
  value: unknown,
  path: string,
  min: number,
  max = Number.MAX_SAFE_INTEGER,
): number => {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    fail(path, `must be an integer from ${min} to ${max}, got ${describe(value)}`)
  }
  return value as number
}

/** The longest delay Node's timers take; above it they fire after 1 ms, with a warning. */
export const maxTimerMs = 2_147_483_647

export const checkNumber = (value: unknown, path: string, min: number, max = Number.MAX_VALUE): number => {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < min || value > max) {
    fail(
      path,
      `must be a finite number ≥ ${min}${max === Number.MAX_VALUE ? '' : ` and ≤ ${max}`}, got ${describe(value)}`,
    )
  }
  return value as number
}

export const checkBoolean = (value: unknown, path: string): boolean => {
  if (typeof value !== 'boolean') fail(path, `must be true or false, got ${describe(value)}`)
  return value as boolean
}

export const checkText = (value: unknown, path: string): string => {
  if (typeof value !== 'string' || value.length === 0)
    fail(path, `must be a non-empty string, got ${describe(value)}`)
  const text = value as string
  if (!text.isWellFormed()) fail(path, 'is not well-formed UTF-16 (a lone surrogate cannot be URL-encoded)')
  return text
}

export const describe = (value: unknown): string => {
  if (typeof value === 'string') return value.length > 40 ? 'a long string' : JSON.stringify(value)
  if (typeof value === 'number' || typeof value === 'boolean' || value == null) return String(value)
  if (Array.isArray(value)) return 'an array'
  return `a ${typeof value}`
}

export const isLoopback = (host: string): boolean =>
  host === '::1' || /^127(\.(25[0-5]|2[0-4]\d|1?\d?\d)){3}$/.test(host)

export const checkSchema = (value: unknown, path: string): StandardSchemaV1 => {
  const standard = (value as { '~standard'?: { validate?: unknown } } | null)?.['~standard']
  if (
    (typeof value !== 'object' && typeof value !== 'function') ||
    typeof standard?.validate !== 'function'
  ) {
    fail(
      path,
      'must be a Standard Schema validator (zod, valibot, arktype...): an object with `~standard.validate`',
    )
  }
  return value as StandardSchemaV1
}
