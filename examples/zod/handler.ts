// Values checked by zod schemas. zod implements Standard Schema, which the `schema` option takes: the
// schema's output becomes the value and its type, and a value that does not match fails the invocation
// with VALIDATION_ERROR before the handler runs. For a secret the error gives only the number of issues;
// for a plain String parameter (configuration, not a secret) it keeps zod's paths and messages.
import middy from '@middy/core'
import { extensionSecrets, parameter, secret } from 'middy-extension-secrets'
import { z } from 'zod'

const DbCredentials = z.object({
  host: z.string().min(1),
  port: z.number().int().min(1).max(65_535),
  username: z.string().min(1),
  password: z.string().min(12),
})

const Limits = z.object({
  maxItems: z.number().int().positive(),
  // Defaults fill what the parameter leaves out: the output type has no optional here.
  timeoutMs: z.number().int().positive().default(2_000),
})

export const handler = middy()
  .use(
    extensionSecrets({
      fetchData: {
        db: secret('prod/db', { schema: DbCredentials }),
        limits: parameter('/app/limits', { parse: 'json', schema: Limits }),
        // A schema on one field of a JSON secret: only the field is validated and kept.
        dbPort: secret('prod/db', { field: 'port', schema: z.number().int() }),
      },
    }),
  )
  .handler(async (_event: unknown, context) => {
    // Typed from the schemas' outputs: no cast.
    const port: number = context.db.port
    const timeoutMs: number = context.limits.timeoutMs
    return {
      connection: `${context.db.username}@${context.db.host}:${port}`,
      samePort: context.dbPort === port,
      maxItems: context.limits.maxItems,
      timeoutMs,
    }
  })
