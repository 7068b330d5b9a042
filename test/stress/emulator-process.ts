import { startEmulator } from '../../src/emulator/index.js'

// The emulator for the soak, in its own process as the extension is in Lambda: the soak's heap, handles
// and event loop are then the client's alone. Driven over IPC; every message is acknowledged once done.

type Message =
  | { id: number; type: 'setValues'; values: never }
  | { id: number; type: 'setFaults'; faults: never }
  | { id: number; type: 'stats' }
  | { id: number; type: 'close' }

const emulator = await startEmulator({ token: process.env.SOAK_TOKEN, cacheEnabled: false })
let requests = 0
const byOutcome: Record<string, number> = {}

// The record is kept short: a soak must not measure the emulator's own memory.
const tally = () => {
  for (const request of emulator.requests) byOutcome[request.outcome] = (byOutcome[request.outcome] ?? 0) + 1
  requests += emulator.requests.length
  emulator.requests.length = 0
}

process.on('message', async (message: Message) => {
  let reply: unknown
  switch (message.type) {
    case 'setValues':
      emulator.setValues(message.values)
      tally()
      break
    case 'setFaults':
      emulator.setFaults(message.faults)
      break
    case 'stats':
      tally()
      reply = { requests, byOutcome }
      break
    case 'close':
      await emulator.close()
      process.send?.({ id: message.id })
      process.disconnect()
      return
  }
  process.send?.({ id: message.id, reply })
})
process.send?.({ port: emulator.port })
