// One cold start: import a contender's handler module, create the handler, answer the first invocation.
// Times are wall-clock milliseconds (timeOrigin + now) so the parent can subtract its spawn time.
import { writeSync } from 'node:fs'

const now = () => performance.timeOrigin + performance.now()
const started = now()
const { contender, values, mode } = JSON.parse(process.argv[2])
const module = await import(contender)
const imported = now()
const handler = module.createHandler({ values, mode })
const created = now()
const { lambdaContext } = await import('./context.mjs')
const result = await handler({}, lambdaContext())
const responded = now()
writeSync(
  1,
  `${JSON.stringify({ started, imported, created, responded, maxRssKiB: process.resourceUsage().maxRSS, result })}\n`,
)
process.exit(0)
