// One execution environment of a cold-start storm: a fresh Node process holding one handler built with
// this package as published. The parent (bench/storm/real.ts) runs this environment's layer (an emulator
// of its own) and says when the environment starts; this process then makes its first invocation and
// replies with times and an error code only: never a value, never the token.
//
// Times are wall-clock (performance.timeOrigin + performance.now(), sub-millisecond), so that they can be
// compared with the parent's: the environment's start is the moment the parent scheduled, not the moment
// its message arrived here, so the parent's timer lateness and the IPC hop count against the handler.
import { createHash } from 'node:crypto'
import middy from '@middy/core'
import { extensionSecrets, parameter, secret } from 'middy-extension-secrets'
import { middlewareOptions } from './settings.mjs'

/** @type {{ service: 'parameter' | 'secret', names: string[], digests: string[], settings: 'default' | 'recommended' }} */
const { service, names, digests, settings } = JSON.parse(process.argv[2])

const wallNow = () => performance.timeOrigin + performance.now()

const fetchData = {}
const keys = names.map((name, index) => {
  const key = `value${index}`
  fetchData[key] = service === 'secret' ? secret(name) : parameter(name)
  return key
})

const digest = (text) => createHash('sha256').update(text).digest('hex')

/** Wall-clock time at which the handler started (the middleware after this package's ran). */
let handlerStartedAt

const handler = middy()
  .use(extensionSecrets({ fetchData, ...middlewareOptions(settings) }))
  // Runs right after this package's `before`, when the handler would: the moment measured.
  .use({
    before: () => {
      handlerStartedAt = wallNow()
    },
  })
  // Checks each value against the digest of what the layer serves: a wrong value is a failure. Done
  // after the moment measured, so the hashing costs the measurement nothing. Secrets are hidden
  // (non-enumerable) on the context by default, but still readable by name.
  .handler(async (_event, context) =>
    keys.every((key, index) => typeof context[key] === 'string' && digest(context[key]) === digests[index]),
  )

// A Lambda context as the runtime builds one (bench/child/context.mjs), with the deadline the parent
// set: the function's timeout counted from the environment's scheduled start.
const lambdaContext = (deadline) => ({
  awsRequestId: 'storm-1',
  functionName: 'storm',
  functionVersion: '$LATEST',
  memoryLimitInMB: '1024',
  callbackWaitsForEmptyEventLoop: true,
  getRemainingTimeInMillis: () => deadline - wallNow(),
})

/** The code reported for a failed invocation: `FETCH_FAILED`'s first key error, else the error's own. */
const codeOf = (error) => {
  const code = typeof error?.code === 'string' ? error.code : 'UNEXPECTED'
  if (code !== 'FETCH_FAILED') return code
  const first = error.errors?.[0]?.code
  return typeof first === 'string' ? first : code
}

process.on('message', async (message) => {
  if (message?.type !== 'invoke') return
  const receivedAt = wallNow()
  const { scheduledAt, deadline } = message
  let reply
  try {
    const valuesOk = await handler({}, lambdaContext(deadline))
    // A handler that starts after the function's timeout never runs on Lambda: the invocation fails.
    if (!valuesOk) reply = { code: 'WRONG_VALUE' }
    else if (handlerStartedAt > deadline) reply = { code: 'FUNCTION_TIMEOUT' }
    else reply = { handlerAfterMs: handlerStartedAt - scheduledAt }
  } catch (error) {
    reply = { code: codeOf(error) }
  }
  process.send({
    type: 'result',
    ...reply,
    // How late the start reached this process: the parent's timer and the IPC hop.
    deliveredAfterMs: receivedAt - scheduledAt,
    maxRssKiB: process.resourceUsage().maxRSS,
  })
})

// The parent gone (killed, crashed): no orphan is left behind.
process.on('disconnect', () => process.exit(0))

process.send({ type: 'ready', rssKiB: Math.round(process.memoryUsage.rss() / 1024) })
