// The first invocation of a fresh handler starts while the extension is unready: connections refused
// for the first half of `unreadyMs`, the not-ready 400 for the second. Measures the time from the moment
// the extension serves to the moment the handler runs. The emulator runs in this process, as the
// extension runs beside the function.
import { writeSync } from 'node:fs'
import { startEmulator } from 'middy-extension-secrets/emulator'
import { lambdaContext } from './context.mjs'

const { contender, values, emulatorValues, unreadyMs, trials } = JSON.parse(process.argv[2])
const { createHandler } = await import(contender)
const emulator = await startEmulator({ values: emulatorValues })
process.env.PARAMETERS_SECRETS_EXTENSION_HTTP_PORT = String(emulator.port)

const delaysMs = []
const requests = []
const notReady = []
for (let trial = 0; trial < trials; trial++) {
  // A new handler each time: every trial is a first invocation.
  let handlerStarted = 0
  // Runs right after the contender's middlewares, when the handler would.
  const handler = createHandler({ values, mode: 'off' }).use({
    before: () => {
      handlerStarted = performance.now()
    },
  })
  const before = emulator.requests.length
  const notReadyBefore = emulator.requests.filter((request) => request.outcome === 'not-ready').length
  const half = unreadyMs / 2
  const faultsSet = performance.now()
  emulator.setFaults([
    { action: 'refuse', forMs: half },
    { action: 'not-ready', afterMs: half, forMs: half },
  ])
  const readyAt = faultsSet + unreadyMs
  // A function timeout longer than the wait, as a function expecting slow starts would have.
  const result = await handler({}, lambdaContext(10_000))
  if (result.count !== values.length) throw new Error('the handler did not get every value')
  delaysMs.push(handlerStarted - readyAt)
  requests.push(emulator.requests.length - before)
  notReady.push(
    emulator.requests.filter((request) => request.outcome === 'not-ready').length - notReadyBefore,
  )
  emulator.setFaults([])
}
await emulator.close()
writeSync(1, `${JSON.stringify({ delaysMs, requests, notReady })}\n`)
process.exit(0)
