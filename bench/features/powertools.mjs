// The core plus the Powertools adapter for events.
import middy from '@middy/core'
import { extensionSecrets, secret } from 'middy-extension-secrets'
import { powertoolsEvents } from 'middy-extension-secrets/powertools'

export const handler = middy()
  .use(
    extensionSecrets({
      fetchData: { db: secret('prod/db') },
      onEvent: powertoolsEvents({ logger: console }),
    }),
  )
  .handler(async (_event, context) => context.db)
