// Option and value checks share one message shape: `path: what was expected`.

export function rejectUnknownKeys(
  input: Record<string, unknown>,
  known: readonly string[],
  path: string,
): void {
  for (const key of Object.keys(input)) {
    if (!known.includes(key)) fail(join(path, key), `unknown key (expected ${listOf(known)})`)
  }
}

export function listOf(words: readonly string[]): string {
  return words.length === 1 ? String(words[0]) : `${words.slice(0, -1).join(', ')} or ${words.at(-1)}`
}

export function join(path: string, key: string): string {
  return path === '' ? key : `${path}.${key}`
}

// The core's own test of a JSON object, so that the emulator reads answers and values by the same rule.
export { isRecord } from '../value.js'

export function fail(path: string, message: string): never {
  throw new TypeError(`${path}: ${message}`)
}
