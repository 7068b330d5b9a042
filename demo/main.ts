/**
 * The demo: a Middy handler like the README's, invoked several times against the emulator, which starts
 * as a cold-starting extension does (refusing connections, then answering "not ready").
 * Run with `npm start`. Secret values are masked in everything printed.
 */
import { createHash } from 'node:crypto'
import middy from '@middy/core'
import { clearCache } from '@middy/util'
import type { Context } from 'aws-lambda'
import { type Emulator, type EmulatorValues, startEmulator } from '../src/emulator/index.js'
import {
  ExtensionSecretsError,
  type ExtensionSecretsEvent,
  extensionSecrets,
  parameter,
  secret,
} from '../src/index.js'

type DbCredentials = { username: string; password: string }

const values = (apiKey: string): EmulatorValues => ({
  parameters: {
    '/app/api-url': 'https://api.example.com',
    '/app/hosts': { type: 'StringList', value: ['a.example.com', 'b.example.com'] },
    '/app/signing-key': { type: 'SecureString', value: 'demo-signing-key-1234' },
    '/app/flags': { versions: ['{"beta":false}', '{"beta":true}', '{"beta":true,"dark":true}'] },
  },
  secrets: {
    'prod/db': { json: { username: 'app', password: 'demo-db-password-5678' } },
    'prod/api-key': {
      versions: [
        { stages: ['AWSPREVIOUS'], string: 'demo-api-key-old' },
        { stages: ['AWSCURRENT'], string: apiKey },
      ],
    },
    'prod/cert': { binary: Buffer.from('demo certificate bytes').toString('base64') },
  },
})

/** A short fingerprint, so a rotation shows without the value: `sha256:1a2b3c`. */
const fingerprint = (text: string): string =>
  `sha256:${createHash('sha256').update(text).digest('hex').slice(0, 6)}`

/** Shows the shape of a secret and none of its content: `<secret: 21 chars, sha256:1a2b3c>`. */
const mask = (value: unknown): string => {
  // A fingerprint of a short string could be reversed by trying every string of that length.
  if (typeof value === 'string') {
    return `<secret: ${value.length} chars${value.length >= 12 ? `, ${fingerprint(value)}` : ''}>`
  }
  if (value instanceof Uint8Array) return `<secret: Uint8Array of ${value.length} bytes>`
  if (Array.isArray(value)) return `[${value.map(mask).join(', ')}]`
  if (value !== null && typeof value === 'object') {
    return `{ ${Object.entries(value)
      .map(([key, item]) => `${key}: ${mask(item)}`)
      .join(', ')} }`
  }
  return '<secret>'
}

/** Values the middleware treats as secret (non-enumerable on the context) are masked; others shown. */
const show = (value: unknown, secret: boolean): string => (secret ? mask(value) : JSON.stringify(value))

const lambdaContext = (remainingMs: number): Context => {
  const end = Date.now() + remainingMs
  return {
    callbackWaitsForEmptyEventLoop: true,
    functionName: 'demo',
    functionVersion: '$LATEST',
    invokedFunctionArn: 'arn:aws:lambda:us-east-1:123456789012:function:demo',
    memoryLimitInMB: '128',
    awsRequestId: crypto.randomUUID(),
    logGroupName: '/aws/lambda/demo',
    logStreamName: 'demo',
    getRemainingTimeInMillis: () => end - Date.now(),
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
  }
}

const emulator: Emulator = await startEmulator({
  values: values('demo-api-key-v1'),
  // The extension's own cache (SECRETS_MANAGER_TTL, 300 s on the real layer), shortened so that the demo
  // shows it expiring.
  secretsManagerTtl: 2,
  ssmParameterStoreTtl: 2,
  faults: [
    { action: 'refuse', forMs: 400 },
    { action: 'not-ready', afterMs: 400, forMs: 400 },
  ],
})
// The emulator accepts any non-empty token; a real function sends its AWS_SESSION_TOKEN.
process.env.AWS_SESSION_TOKEN ??= 'demo-session-token'
process.env.PARAMETERS_SECRETS_EXTENSION_HTTP_PORT = String(emulator.port)

/** What the middleware reports about each key (names and times, never values). */
const events: ExtensionSecretsEvent[] = []

// The handler's configuration, as it would be in a function's code.
const secrets = extensionSecrets({
  fetchData: {
    db: secret<DbCredentials>('prod/db'),
    apiUrl: parameter('/app/api-url', { parse: 'text' }),
    hosts: parameter('/app/hosts', { parse: 'list' }),
    signingKey: parameter('/app/signing-key', { parse: 'text' }),
    apiKey: secret('prod/api-key', { parse: 'text' }),
    previousApiKey: secret('prod/api-key', { versionStage: 'AWSPREVIOUS', parse: 'text', optional: true }),
    flags: parameter('/app/flags', { version: 3, parse: 'json' }),
    cert: secret('prod/cert', { parse: 'binary' }),
  },
  cacheExpiry: 1_500,
  onEvent: (event) => {
    events.push(event)
  },
})

console.log(`A Middy handler with this configuration:

  extensionSecrets({
    fetchData: {
      db: secret<DbCredentials>('prod/db'),                   // JSON secret → object
      apiUrl: parameter('/app/api-url', { parse: 'text' }),   // String parameter
      hosts: parameter('/app/hosts', { parse: 'list' }),      // StringList → string[]
      signingKey: parameter('/app/signing-key', { parse: 'text' }), // SecureString, decrypted
      apiKey: secret('prod/api-key', { parse: 'text' }),
      previousApiKey: secret('prod/api-key', { versionStage: 'AWSPREVIOUS', parse: 'text', optional: true }),
      flags: parameter('/app/flags', { version: 3, parse: 'json' }),
      cert: secret('prod/cert', { parse: 'binary' }),         // binary secret → Uint8Array
    },
    cacheExpiry: 1_500, // keep values 1.5 s in this process
  })

runs against an emulated extension on ${emulator.url} that starts as a cold-starting one does: it refuses
connections for 400 ms, then answers "not ready" for 400 ms. Secrets are shown masked.
`)

const handler = middy()
  .use(secrets)
  .handler(async (_event: unknown, context) => ({
    db: context.db,
    apiUrl: context.apiUrl,
    hosts: context.hosts,
    signingKey: context.signingKey,
    apiKey: context.apiKey,
    previousApiKey: context.previousApiKey,
    flags: context.flags,
    cert: context.cert,
    // What a logger that serializes the context would print: secrets are non-enumerable.
    contextAsJson: JSON.stringify(context),
    secretKeys: Object.getOwnPropertyNames(context).filter(
      (key) => !Object.prototype.propertyIsEnumerable.call(context, key),
    ),
  }))

/** `8 asked from the extension (the slowest made 6 requests)`, in plain words. */
const describeEvents = (list: ExtensionSecretsEvent[]): string => {
  const fetched = list.filter((event) => event.type === 'fetched')
  const fromCache = list.filter((event) => event.type === 'hit').length
  const missing = list.filter((event) => event.type === 'missing').map((event) => event.key)
  const parts: string[] = []
  if (fetched.length > 0) {
    const attempts = Math.max(...fetched.map((event) => ('attempts' in event ? event.attempts : 0)))
    parts.push(
      `${fetched.length} values asked from the extension${attempts > 1 ? ` (one key made ${attempts} requests while the extension started; the others waited for it)` : ''}`,
    )
  }
  if (fromCache > 0) parts.push(`${fromCache} values from this process's cache, no request`)
  if (missing.length > 0) parts.push(`optional and absent: ${missing.join(', ')}`)
  return parts.join('; ')
}

const invoke = async (title: string, showAll: boolean) => {
  events.length = 0
  const started = performance.now()
  let outcome: string
  try {
    const result = await handler({}, lambdaContext(3_000) as never)
    const { contextAsJson, secretKeys, db, ...received } = result
    const lines = Object.entries(received)
      .filter(([key]) => showAll || key === 'apiKey')
      .map(([key, value]) => `    ${key.padEnd(15)} ${show(value, secretKeys.includes(key))}`)
    if (showAll) {
      // The username is shown to prove the JSON was parsed; the password stays masked.
      lines.unshift(
        `    ${'db'.padEnd(15)} { username: ${JSON.stringify(db.username)}, password: ${mask(db.password)} }`,
      )
      lines.push(
        `    JSON.stringify(context) shows a secret? ${/demo-(db|signing|api)/.test(contextAsJson) ? 'YES' : 'no'}`,
      )
    }
    outcome = lines.join('\n')
  } catch (error) {
    outcome = `    failed: ${error instanceof ExtensionSecretsError ? `${error.code}: ${error.message}` : String(error)}`
  }
  console.log(
    `${title} (${Math.round(performance.now() - started)} ms): ${describeEvents(events)}\n${outcome}\n`,
  )
}

await invoke('1. Cold start: the handler waited until the extension was ready', true)
await invoke('2. Warm, within cacheExpiry (1.5 s)', false)

emulator.setValues(values('demo-api-key-v2'), { keepCache: true })
console.log(
  `(The api key is rotated in the emulated Secrets Manager: new value ${fingerprint('demo-api-key-v2')}.)\n`,
)
await new Promise((resolve) => setTimeout(resolve, 1_600))
await invoke("3. After cacheExpiry: asked again; the extension's own cache still holds the old key", false)
await new Promise((resolve) => setTimeout(resolve, 2_000))
await invoke(
  "4. After the extension's cache expired too (SECRETS_MANAGER_TTL, 300 s on AWS): the rotated key",
  false,
)
clearCache()

const broken = middy()
  .use(extensionSecrets({ fetchData: { missing: secret('prod/does-not-exist') } }))
  .handler(async () => 'never reached')
const started = performance.now()
try {
  await broken({}, lambdaContext(3_000) as never)
} catch (error) {
  const failure = error as ExtensionSecretsError
  console.log(
    `5. A secret that does not exist fails at once, without retrying (${Math.round(performance.now() - started)} ms):`,
  )
  console.log(`    ${failure.message}`)
}

await emulator.close()
