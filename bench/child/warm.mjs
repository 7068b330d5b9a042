// Warm invocations of one contender. After a warm-up, a short probe sizes the batches so that each
// lasts about `batchMs`; then `batches` batches, each step `concurrency` invocations at once. Reports the
// time per invocation of each batch, in microseconds.
import { writeSync } from 'node:fs'
import { lambdaContext } from './context.mjs'

const { contender, values, mode, warmup, warmupMs, batches, batchMs, concurrency } = JSON.parse(
  process.argv[2],
)
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
const perInvocationUs = []
for (let round = 0; round < batches; round++) {
  const start = performance.now()
  for (let i = 0; i < iterations; i++) await step()
  perInvocationUs.push(((performance.now() - start) * 1000) / (iterations * concurrency))
}
writeSync(1, `${JSON.stringify({ perInvocationUs, iterations, result })}\n`)
process.exit(0)
