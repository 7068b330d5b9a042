// This package with its defaults (cacheExpiry 0: the extension's cache serves every invocation).
// The cache-on scenario keeps values for the life of the process (cacheExpiry -1).
import middy from '@middy/core'
import { extensionSecrets, parameter, secret } from 'middy-extension-secrets'

export const createHandler = ({ values, mode }) => {
  const fetchData = {}
  for (const { key, kind, name } of values)
    fetchData[key] = kind === 'secret' ? secret(name) : parameter(name)
  const options = mode === 'on' ? { fetchData, cacheExpiry: -1 } : { fetchData }
  return middy()
    .use(extensionSecrets(options))
    .handler(async (_event, context) => {
      let chars = 0
      for (const { key } of values) chars += context[key].length
      return { count: values.length, chars }
    })
}
