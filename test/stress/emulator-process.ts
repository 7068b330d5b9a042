import { startEmulator } from '../../src/emulator/index.js'

// The emulator for the soak, in its own process as the extension is in Lambda: the soak's heap, handles
// and event loop are then the client's alone. Driven over IPC; every message is acknowledged once done.

type Message =
  | { id: number; type: 'setValues'; values: never }
  | { id: number; type: 'setFaults'; faults: never }
  | { id: number; type: 'stats' }
  | { id: number; type: 'close' }

const emulator = await startEmulator({ token: process.env.SOAK_TOKEN, cacheEnabled: false, recordLimit: 0 })
// Only counts are kept (recordLimit 0): a soak must not measure the emulator's own memory.
const tally = () => ({ requests: emulator.counts.total, byOutcome: { ...emulator.counts.byOutcome } })

process.on('message', async (message: Message) => {
  let reply: unknown
  switch (message.type) {
    case 'setValues':
      // A rotation the soak's client must see at once.
      emulator.setValues(message.values)
      break
    case 'setFaults':
      emulator.setFaults(message.faults)
      break
    case 'stats':
      reply = tally()
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
