// Runs one storm with real processes and prints its summary and timing readings (no value, no token):
//   npx tsx bench/storm/real-cli.ts '{"environments": 50, "values": 5}'
// The JSON overrides the storm bench's base scenario. PREPARED=1 skips the build when the consumer folder is ready.
import { existsSync } from 'node:fs'
import { join } from 'node:path'
import { baseScenario } from './modelled.js'
import { defaultConsumerDir, prepareConsumer, runRealStorm } from './real.js'
import { type StormScenario, summarize } from './scenario.js'

const scenario: StormScenario = { ...baseScenario, ...JSON.parse(process.argv[2] ?? '{}') }
const log = (line: string) => console.error(line)
const dir = defaultConsumerDir
if (process.env.PREPARED !== '1' || !existsSync(join(dir, 'env.mjs'))) prepareConsumer(dir, log)
const result = await runRealStorm(scenario, { consumerDir: dir, log })
const codes: Record<string, number> = {}
for (const outcome of result.outcomes) if (outcome.code) codes[outcome.code] = (codes[outcome.code] ?? 0) + 1
console.log(
  JSON.stringify(
    {
      scenario,
      summary: summarize(result),
      codes,
      durationMs: Math.round(result.durationMs),
      timing: result.timing,
    },
    null,
    2,
  ),
)
