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
  // The extension's own cache (300 s on the real layer).
  secretsManagerTtl: 300,
  ssmParameterStoreTtl: 300,
  faults: [
    { action: 'refuse', forMs: 400 },
    { action: 'not-ready', afterMs: 400, forMs: 400 },
  ],
})
// The emulator accepts any non-empty token; a real function sends its AWS_SESSION_TOKEN.
process.env.AWS_SESSION_TOKEN ??= 'demo-session-token'

console.log(
  `Emulated extension on ${emulator.url}: refusing connections for 400 ms, then "not ready" for 400 ms.\n`,
)

/** What the middleware reports about each key, collected per invocation (names and times, no values). */
const events: ExtensionSecretsEvent[] = []

const secrets = extensionSecrets({
  fetchData: {
    db: secret<DbCredentials>('prod/db'),
    dbPassword: secret('prod/db', { field: 'password' }),
    apiUrl: parameter('/app/api-url', { parse: 'text' }),
    hosts: parameter('/app/hosts', { parse: 'list' }),
    signingKey: parameter('/app/signing-key', { parse: 'text' }),
    apiKey: secret('prod/api-key', { parse: 'text' }),
    previousApiKey: secret('prod/api-key', { versionStage: 'AWSPREVIOUS', parse: 'text' }),
    flags: parameter('/app/flags', { version: 3, parse: 'json' }),
    cert: secret('prod/cert', { parse: 'binary' }),
  },
  cacheExpiry: 1_500,
  port: emulator.port,
  // After invalidate(), ask for AWSCURRENT explicitly: a request the extension has not cached.
  bypassExtensionCache: 'versionStage',
  onEvent: (event) => {
    events.push(event)
  },
})

const handler = middy()
  .use(secrets)
  .handler(async (_event: unknown, context) => ({
    db: context.db,
    dbPassword: context.dbPassword,
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

/** `9 fetched (miss), up to 5 attempts, 780 ms waiting for readiness` */
const describeEvents = (list: ExtensionSecretsEvent[]): string => {
  const counts = new Map<string, number>()
  let attempts = 0
  let readinessWaitMs = 0
  for (const event of list) {
    const label =
      event.type === 'fetched' || event.type === 'failed' ? `${event.type} (${event.cache})` : event.type
    counts.set(label, (counts.get(label) ?? 0) + 1)
    if (event.type === 'fetched') {
      attempts = Math.max(attempts, event.attempts)
      readinessWaitMs = Math.max(readinessWaitMs, event.readinessWaitMs)
    }
  }
  const parts = [...counts].map(([label, count]) => `${count} ${label}`)
  if (attempts > 1) parts.push(`up to ${attempts} attempts, ${readinessWaitMs} ms waiting for readiness`)
  return parts.join(', ')
}

const invoke = async (title: string, showAll: boolean) => {
  const seen = emulator.requests.length
  events.length = 0
  const started = performance.now()
  const context = lambdaContext(3_000)
  let outcome: string
  try {
    const result = await handler({}, context as never)
    const { contextAsJson, secretKeys, ...received } = result
    const lines = Object.entries(received)
      .filter(([key]) => showAll || key === 'apiKey')
      .map(([key, value]) => `    ${key.padEnd(15)} ${show(value, secretKeys.includes(key))}`)
    if (showAll) {
      lines.push(
        `    JSON.stringify(context) shows a secret? ${/demo-(db|signing|api)/.test(contextAsJson) ? 'YES' : 'no'}`,
      )
    }
    outcome = lines.join('\n')
  } catch (error) {
    outcome = `    failed: ${error instanceof ExtensionSecretsError ? `${error.code}: ${error.message}` : String(error)}`
  }
  const elapsed = Math.round(performance.now() - started)
  const requests = emulator.requests.slice(seen)
  const tally = new Map<string, number>()
  for (const request of requests) {
    const label = request.cached ? 'served from the extension cache' : request.outcome
    tally.set(label, (tally.get(label) ?? 0) + 1)
  }
  const summary =
    requests.length === 0
      ? "no request: every value from this package's cache"
      : `requests: ${[...tally].map(([label, count]) => `${count} ${label}`).join(', ')}`
  console.log(`${title} (${elapsed} ms): ${summary}\n    events: ${describeEvents(events)}\n${outcome}\n`)
}

// Refused connections never reach the emulator, so only the "not ready" answers are counted below.
await invoke('1. Cold start: the handler waited through refused connections and "not ready" answers', true)
await invoke('2. Warm, within cacheExpiry (1.5 s)', false)

emulator.setValues(values('demo-api-key-v2'), { keepCache: true })
console.log(
  `(The api key is rotated in the emulated Secrets Manager: new value ${fingerprint('demo-api-key-v2')}.)\n`,
)
await new Promise((resolve) => setTimeout(resolve, 1_600))
await invoke("3. After cacheExpiry: asked again, but the extension's own cache still has the old key", false)
secrets.invalidate(['apiKey'])
await invoke(
  '4. After invalidate(): asked for AWSCURRENT explicitly, a request the extension has not cached (unverified on the real layer): the rotated key arrives',
  false,
)
clearCache()

const broken = middy()
  .use(extensionSecrets({ fetchData: { missing: secret('prod/does-not-exist') }, port: emulator.port }))
  .handler(async () => 'never reached')
const started = performance.now()
try {
  await broken({}, lambdaContext(3_000) as never)
} catch (error) {
  const failure = error as ExtensionSecretsError
  console.log(`5. A secret that does not exist fails fast (${Math.round(performance.now() - started)} ms):`)
  console.log(
    `    ${failure.code}: ${failure.errors?.map((inner) => `${inner.key} → ${inner.code}, status ${inner.status}, ${inner.attempts} attempt`).join('; ')}`,
  )
  console.log(`    ${failure.message}`)
}

await emulator.close()
