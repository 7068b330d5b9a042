// A handler that survives secret rotation: a database password read with refreshOn (fetch again after an
// authentication failure), the previous version accepted during an alternating-users rotation, a last
// good value served for a while if the extension has a hiccup, and events as CloudWatch metrics.
import middy from '@middy/core'
import { extensionSecrets, type StandardSchemaV1, secret } from 'middy-extension-secrets'
import { emfEvents } from './emf-events.js'

type DbCredentials = { username: string; password: string }

// Any Standard Schema validator (zod, valibot, arktype...) types each version of a staged secret; this
// one is written by hand to show the interface.
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
    fetchData: {
      // `{ current, previous? }` during an alternating-users rotation, both users' credentials.
      db: secret('prod/db', { stages: ['previous'], schema: dbCredentials }),
    },
    cacheExpiry: 5 * 60_000,
    // An authentication failure means the cached password was rotated: fetch it again next time.
    refreshOn: (error) => error instanceof AuthenticationFailed,
    // If the extension cannot answer when the cached value expires, keep using it for up to 15 minutes.
    staleIfError: { maxStale: 15 * 60_000 },
    onEvent: emfEvents('MyApp', write),
  })
  return middy()
    .use(secrets)
    .handler(async (_event: unknown, context) => {
      const { current, previous } = context.db
      try {
        return await database.connect(current.username, current.password)
      } catch (error) {
        // Mid-rotation the new version may not be live in the database yet: the previous one still is.
        if (!(error instanceof AuthenticationFailed) || previous === undefined) throw error
        return database.connect(previous.username, previous.password)
      }
    })
}
