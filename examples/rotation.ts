// A handler that survives secret rotation: a database password cached for five minutes and fetched
// again after an authentication failure (the `refreshOn` middleware), a last good value served for a
// while if the extension has a hiccup, and events as CloudWatch metrics.
import middy from '@middy/core'
import { extensionSecrets, type StandardSchemaV1, secret } from 'middy-extension-secrets'
import { refreshOn } from 'middy-extension-secrets/refresh-on'
import { emfEvents } from './emf-events.js'

type DbCredentials = { username: string; password: string }

// Any Standard Schema validator (zod, valibot, arktype...) validates and types the value; this one is
// written by hand to show the interface.
const dbCredentials: StandardSchemaV1<unknown, DbCredentials> = {
  '~standard': {
    version: 1,
    vendor: 'example',
    validate: (value) => {
      const { username, password } = (value ?? {}) as Partial<DbCredentials>
      return typeof username === 'string' && typeof password === 'string'
        ? { value: { username, password } }
        : { issues: [{ message: 'expected { username, password } strings' }] }
    },
  },
}

/** What a database client throws when a password is refused (PostgreSQL's code 28P01). */
export class AuthenticationFailed extends Error {
  readonly code = '28P01'
}

/** Stands in for a database connection: accepts the passwords the database currently knows. */
export interface Database {
  connect(user: string, password: string): Promise<string>
}

export const createHandler = (database: Database, write?: (line: string) => void) => {
  const secrets = extensionSecrets({
    fetchData: { db: secret('prod/db', { schema: dbCredentials }) },
    cacheExpiry: 5 * 60_000,
    // If the extension cannot answer when the cached value expires, keep using it for up to 15 minutes.
    staleIfError: { maxStale: 15 * 60_000 },
    onEvent: emfEvents('MyApp', write),
  })
  return (
    middy()
      .use(secrets)
      // An authentication failure means the cached password was rotated: fetch it again next time.
      .use(refreshOn(secrets, (error) => error instanceof AuthenticationFailed))
      .handler(async (_event: unknown, context) => {
        const { username, password } = context.db
        return database.connect(username, password)
      })
  )
}
