// Middy's SDK middlewares with their defaults (prefetch at creation, cacheExpiry -1: fetched once per
// process) plus setToContext, as a user reading values from the context sets it. Region, credentials and
// endpoints come from the environment, as on Lambda. The cache-off scenario sets cacheExpiry 0.
import middy from '@middy/core'
import secretsManager from '@middy/secrets-manager'
import ssm from '@middy/ssm'

export const createHandler = ({ values, mode }) => {
  const parameters = {}
  const secrets = {}
  for (const { key, kind, name } of values) (kind === 'secret' ? secrets : parameters)[key] = name
  const cache = mode === 'off' ? { cacheExpiry: 0 } : {}
  const handler = middy()
  if (Object.keys(parameters).length > 0) {
    handler.use(ssm({ fetchData: parameters, setToContext: true, ...cache }))
  }
  if (Object.keys(secrets).length > 0) {
    handler.use(secretsManager({ fetchData: secrets, setToContext: true, ...cache }))
  }
  return handler.handler(async (_event, context) => {
    let chars = 0
    for (const { key } of values) chars += context[key].length
    return { count: values.length, chars }
  })
}
