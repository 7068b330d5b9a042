// Type-checked only (skipLibCheck off): the context is typed from fetchData, never silently `any`.
// Each @ts-expect-error below fails the type check if its line stops being an error, which is what
// an `any` context would do.
import middy from '@middy/core'
import { extensionSecrets, parameter, secret } from 'middy-extension-secrets'
import { type EmulatorValues, startEmulator } from 'middy-extension-secrets/emulator'

export const handler = middy()
  .use(
    extensionSecrets({
      fetchData: {
        db: secret<{ username: string; password: string }>('prod/db'),
        url: parameter('/app/url', { parse: 'text' }),
        hosts: parameter('/app/hosts', { parse: 'list' }),
      },
    }),
  )
  .handler(async (_event: unknown, context) => {
    const url: string = context.url
    const firstHost: string | undefined = context.hosts[0]
    // @ts-expect-error a text parameter is a string, not a number
    const port: number = context.url
    // @ts-expect-error the secret's type has no such field
    const misspelt = context.db.pasword
    // @ts-expect-error only fetchData keys are added to the context
    const missing = context.notFetched
    return { url, firstHost, port, misspelt, missing, request: context.awsRequestId }
  })

export const values: EmulatorValues = { parameters: { '/app/url': 'https://example.com' } }
// @ts-expect-error the emulator's options are typed too
export const wrong = () => startEmulator({ port: '2773' })
