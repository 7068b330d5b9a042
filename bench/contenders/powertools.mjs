// Powertools for AWS Lambda's parameters utility, called in the handler as its docs show: parameters in
// one batch (getParametersByName, GetParameters under the hood), secrets one call each. Its default cache
// keeps values 5 s; the cache-off scenario sets maxAge 0 and the cache-on one keeps them for a day.
// Region, credentials and endpoints come from the environment, as on Lambda.
import { getSecret } from '@aws-lambda-powertools/parameters/secrets'
import { getParametersByName } from '@aws-lambda-powertools/parameters/ssm'
import middy from '@middy/core'

export const createHandler = ({ values, mode }) => {
  const cache = mode === 'off' ? { maxAge: 0 } : mode === 'on' ? { maxAge: 86_400 } : {}
  const parameters = {}
  const secretNames = []
  for (const { kind, name } of values) {
    if (kind === 'secret') secretNames.push(name)
    else parameters[name] = {}
  }
  const hasParameters = Object.keys(parameters).length > 0
  return middy().handler(async () => {
    const [byName, ...secrets] = await Promise.all([
      hasParameters ? getParametersByName(parameters, { ...cache, throwOnError: true }) : {},
      ...secretNames.map((name) => getSecret(name, cache)),
    ])
    let chars = 0
    for (const text of Object.values(byName)) chars += text.length
    for (const text of secrets) chars += text.length
    return { count: values.length, chars }
  })
}
