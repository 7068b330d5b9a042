// Every feature a handler can use: caching, stale values, optional values, events, refreshOn, Powertools.
import middy from '@middy/core'
import { extensionSecrets, parameter, secret } from 'middy-extension-secrets'
import { powertoolsEvents } from 'middy-extension-secrets/powertools'
import { refreshOn } from 'middy-extension-secrets/refresh-on'

const secrets = extensionSecrets({
  fetchData: {
    url: parameter('/app/url', { parse: 'text' }),
    flags: parameter('/app/flags', { parse: 'json', optional: true }),
    db: secret('prod/db', { field: 'password' }),
  },
  cacheExpiry: 60_000,
  staleIfError: { maxStale: 600_000 },
  onEvent: powertoolsEvents({ logger: console }),
})
export const handler = middy()
  .use(secrets)
  .use(refreshOn(secrets, () => true))
  .handler(async (_event, context) => context.db)
