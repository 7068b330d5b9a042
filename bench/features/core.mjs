// A handler using only the core: extensionSecrets with parameter() and secret().
import middy from '@middy/core'
import { extensionSecrets, parameter, secret } from 'middy-extension-secrets'

export const handler = middy()
  .use(extensionSecrets({ fetchData: { url: parameter('/app/url'), db: secret('prod/db') } }))
  .handler(async (_event, context) => context.url)
