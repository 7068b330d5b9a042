// The snippet AWS's documentation shows for the extension: fetch with the session token header, one
// request per value, in parallel. 127.0.0.1 rather than the docs' localhost, so that no name lookup is
// charged to it.
import middy from '@middy/core'

const port = process.env.PARAMETERS_SECRETS_EXTENSION_HTTP_PORT ?? '2773'
const headers = { 'X-Aws-Parameters-Secrets-Token': process.env.AWS_SESSION_TOKEN }

const getSecret = async (secretId) => {
  const response = await fetch(
    `http://127.0.0.1:${port}/secretsmanager/get?secretId=${encodeURIComponent(secretId)}`,
    { headers },
  )
  if (!response.ok) throw new Error(`secret ${secretId}: ${response.status}`)
  return (await response.json()).SecretString
}

const getParameter = async (name) => {
  const response = await fetch(
    `http://127.0.0.1:${port}/systemsmanager/parameters/get?name=${encodeURIComponent(name)}&withDecryption=true`,
    { headers },
  )
  if (!response.ok) throw new Error(`parameter ${name}: ${response.status}`)
  return (await response.json()).Parameter.Value
}

export const createHandler = ({ values }) =>
  middy()
    .before(async (request) => {
      const got = await Promise.all(
        values.map(({ kind, name }) => (kind === 'secret' ? getSecret(name) : getParameter(name))),
      )
      for (let i = 0; i < values.length; i++) request.context[values[i].key] = got[i]
    })
    .handler(async (_event, context) => {
      let chars = 0
      for (const { key } of values) chars += context[key].length
      return { count: values.length, chars }
    })
