import middy from '@middy/core'
import { extensionSecrets, parameter, secret } from 'middy-extension-secrets'

type DbCredentials = { username: string; password: string }

export const handler = middy()
  .use(
    extensionSecrets({
      fetchData: {
        db: secret<DbCredentials>('prod/db'), // a JSON SecretString, parsed
        apiUrl: parameter('/app/api-url', { parse: 'text' }), // a String parameter
      },
    }),
  )
  .handler(async (_event: unknown, context) => {
    // context.db.password is here to connect with; never return or log it.
    return { user: context.db.username, apiUrl: context.apiUrl }
  })
