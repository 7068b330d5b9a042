// Warm invocations of one contender, batch by batch on the parent's request, so that the parent can
// interleave the batches of every contender and each sees the same load on the machine. After a warm-up,
// a short probe sizes the batches to about `batchMs`; each step is `concurrency` invocations at once.
// Replies with the time per invocation of each batch, in microseconds.
import { lambdaContext } from './context.mjs'

const { contender, values, mode, warmup, warmupMs, batchMs, concurrency } = JSON.parse(process.argv[2])
const { createHandler } = await import(contender)
const handler = createHandler({ values, mode })

let result
const step =
  concurrency === 1
    ? async () => {
        result = await handler({}, lambdaContext())
      }
    : async () => {
        const batch = new Array(concurrency)
        for (let i = 0; i < concurrency; i++) batch[i] = handler({}, lambdaContext())
        result = (await Promise.all(batch))[0]
      }

// At least `warmup` invocations (whatever the concurrency) and `warmupMs`: a microsecond-scale handler
// needs thousands of calls before the optimizing compiler has settled.
const warmupStart = performance.now()
for (let i = 0; i < Math.ceil(warmup / concurrency) || performance.now() - warmupStart < warmupMs; i++) {
  await step()
}
let probeSteps = 0
const probeStart = performance.now()
while (performance.now() - probeStart < batchMs / 4 || probeSteps < 3) {
  await step()
  probeSteps++
}
const stepMs = (performance.now() - probeStart) / probeSteps
const iterations = Math.max(3, Math.round(batchMs / stepMs))

process.on('message', async (message) => {
  if (message !== 'batch') process.exit(0)
  const start = performance.now()
  for (let i = 0; i < iterations; i++) await step()
  const perInvocationUs = ((performance.now() - start) * 1000) / (iterations * concurrency)
  process.send({ perInvocationUs, result })
})
process.send({ ready: true })
