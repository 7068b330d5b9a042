import { checkBoolean, checkInteger, checkText, describe, fail, isObject } from './checks.js'

// What the deployment helpers read from a handler's configuration. The types are structural and local:
// this subpath must not load the middleware, and it reads only the keys that decide what is fetched
// (names and version selectors). Every other key of an entry (parse, field, schema...) belongs to the
// middleware and is ignored here, so that new entry options never need a change of this file.

/** The `fetchData` record of the middleware: entries made by `parameter(...)` / `secret(...)` or plain objects. */
export type FetchDataRecord = Readonly<Record<string, object>>

/**
 * The record itself, or anything carrying it: the middleware's options object (whose `cacheExpiry` is
 * read too), the middleware object.
 */
export type DeploymentConfig =
  | FetchDataRecord
  | { readonly fetchData: FetchDataRecord; readonly cacheExpiry?: number }

/** One read the function makes through the extension. */
export type Source = ({ kind: 'parameter'; name: string } | { kind: 'secret'; id: string }) & {
  /** The option path of the name, for messages: `fetchData.db.secret`. */
  path: string
}

export interface ReadConfig {
  sources: Source[]
  /** The middleware's `cacheExpiry`, when the configuration object carries it. */
  cacheExpiry?: unknown
}

const isEntry = (value: unknown) => isObject(value) && ('parameter' in value || 'secret' in value)

export const readConfig = (config: unknown): ReadConfig => {
  if (
    (typeof config !== 'object' && typeof config !== 'function') ||
    config === null ||
    Array.isArray(config)
  )
    fail(
      'fetchData',
      `must be an object (the fetchData record, or an object with a fetchData property), got ${describe(config)}`,
    )
  const holder = config as Record<string, unknown>
  // A record may have an entry named fetchData; a holder's fetchData is a record, never an entry.
  const isHolder = 'fetchData' in holder && !isEntry(holder.fetchData)
  const record = isHolder ? holder.fetchData : holder
  if (!isObject(record)) fail('fetchData', `must be an object, got ${describe(record)}`)
  const keys = Object.keys(record as object)
  if (keys.length === 0) fail('fetchData', 'has no entries: there is nothing to deploy for')
  const sources = keys.map((key) => readEntry((record as Record<string, unknown>)[key], `fetchData.${key}`))
  return isHolder && 'cacheExpiry' in holder ? { sources, cacheExpiry: holder.cacheExpiry } : { sources }
}

const readEntry = (entry: unknown, path: string): Source => {
  if (!isObject(entry))
    fail(path, `must be an object made by parameter(...) or secret(...), got ${describe(entry)}`)
  const item = entry as Record<string, unknown>
  const isParameter = 'parameter' in item
  if (isParameter === 'secret' in item) fail(path, 'must have exactly one of `parameter` and `secret`')
  // The selectors are checked although they do not change the policy: a wrong one here is a wrong one
  // in the handler, and this is where a build finds it first.
  if (isParameter) {
    const name = checkText(item.parameter, `${path}.parameter`)
    if (item.version !== undefined) checkInteger(item.version, `${path}.version`, 1, Number.MAX_SAFE_INTEGER)
    if (item.label !== undefined) checkText(item.label, `${path}.label`)
    if (item.decrypt !== undefined) checkBoolean(item.decrypt, `${path}.decrypt`)
    return { kind: 'parameter', name, path: `${path}.parameter` }
  }
  const id = checkText(item.secret, `${path}.secret`)
  if (item.versionId !== undefined) checkText(item.versionId, `${path}.versionId`)
  if (item.versionStage !== undefined) checkText(item.versionStage, `${path}.versionStage`)
  return { kind: 'secret', id, path: `${path}.secret` }
}
