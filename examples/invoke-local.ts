// Invokes examples/handler.ts once, as a plain script, against the emulator command started in
// another terminal (docs/testing.md):
//   npx extension-secrets-emulator --values examples/handler-values.json
//   PARAMETERS_SECRETS_EXTENSION_HTTP_PORT=2773 AWS_SESSION_TOKEN="${AWS_SESSION_TOKEN:-local}" \
//     npx tsx examples/invoke-local.ts
import { handler } from './handler.js'

// Lambda's context as far as the middleware needs it: the remaining time bounds its wait.
const deadline = Date.now() + 10_000
const context = { getRemainingTimeInMillis: () => deadline - Date.now() }

const result = await handler({}, context as never)
console.log(JSON.stringify(result))
