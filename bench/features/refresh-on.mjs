// The core plus the refreshOn middleware.
import middy from '@middy/core'
import { extensionSecrets, secret } from 'middy-extension-secrets'
import { refreshOn } from 'middy-extension-secrets/refresh-on'

const secrets = extensionSecrets({ fetchData: { db: secret('prod/db') }, cacheExpiry: 60_000 })
export const handler = middy()
  .use(secrets)
  .use(refreshOn(secrets, () => true))
  .handler(async (_event, context) => context.db)
