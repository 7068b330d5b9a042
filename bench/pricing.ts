import { table } from './report.js'

// Documented quotas and prices, with the pages they come from and when they were read. A change of
// price is a change here, not in the measurements.
const asOf = 'January 2026'
const secretsManagerPer10k = 0.05 // GetSecretValue: $0.05 per 10,000 API calls (Secrets Manager pricing)
const parameterStoreHigherThroughputPer10k = 0.05 // higher throughput: $0.05 per 10,000 API interactions
const parameterStoreDefaultTps = 40 // default throughput, all Get* calls together, per account and region
const secretsManagerTps = 10_000 // GetSecretValue, per account and region
const extensionTtlS = 300 // SECRETS_MANAGER_TTL / SSM_PARAMETER_STORE_TTL default
const monthS = 30 * 24 * 3600

/**
 * Upstream calls and cost per month for the 5-value handler (2 secrets, 3 parameters), with every
 * execution environment busy enough that each value is asked for at least once per TTL (the worst case:
 * a quieter environment makes fewer calls). Cold starts add one call per value per environment.
 */
export const costTable = (): string => {
  const secrets = 2
  const parametersCount = 3
  const rows: string[][] = []
  // With this package's cache on top, the extension is asked once per cacheExpiry, and its own copy has
  // expired by then (the TTL is shorter), so each ask is at most one upstream call.
  const scenarios: { what: string; periodS: number }[] = [
    { what: 'extension alone (its TTL 300 s), `cacheExpiry: 0`', periodS: extensionTtlS },
    { what: 'extension + this package, `cacheExpiry: 3_600_000` (1 h)', periodS: 3600 },
    { what: 'extension + this package, `cacheExpiry: 86_400_000` (1 day)', periodS: 86_400 },
  ]
  for (const environments of [10, 100, 1000]) {
    for (const { what, periodS } of scenarios) {
      const perValue = Math.ceil(monthS / periodS)
      const secretCalls = perValue * secrets * environments
      const parameterCalls = perValue * parametersCount * environments
      const secretCost = (secretCalls / 10_000) * secretsManagerPer10k
      const parameterCost = (parameterCalls / 10_000) * parameterStoreHigherThroughputPer10k
      const coldStorm = environments * parametersCount
      rows.push([
        String(environments),
        what,
        secretCalls.toLocaleString('en-US'),
        parameterCalls.toLocaleString('en-US'),
        `$${secretCost.toFixed(2)}`,
        `$0 standard / $${parameterCost.toFixed(2)} higher throughput`,
        coldStorm > parameterStoreDefaultTps
          ? `${coldStorm} parameter reads: over the default ${parameterStoreDefaultTps}/s if they start within a second`
          : `${coldStorm} parameter reads: within ${parameterStoreDefaultTps}/s`,
      ])
    }
  }
  return `## Upstream calls and cost per month (computed)

Not measured: computed from documented quotas and prices (${asOf}; AWS pages "AWS Secrets Manager
pricing", "AWS Systems Manager pricing" (Parameter Store), "AWS Secrets Manager quotas", "Parameter Store
throughput"). 5 values (2 secrets, 3 parameters), 30 days, every environment invoked at least once per
TTL (the worst case). Secrets Manager charges $${secretsManagerPer10k} per 10,000 calls (plus $0.40 per
secret per month, the same in every row) and allows ${secretsManagerTps.toLocaleString('en-US')}
GetSecretValue/s; Parameter Store standard throughput is free at ${parameterStoreDefaultTps} reads/s per
account and region (all Get* calls together), higher throughput costs $${parameterStoreHigherThroughputPer10k}
per 10,000. For comparison, \`@middy/ssm\` and \`@middy/secrets-manager\` with their default
\`cacheExpiry: -1\` call AWS once per value per environment (plus once per cold start), and Powertools'
default 5 s cache up to ${Math.ceil(monthS / 5).toLocaleString('en-US')} times per value per environment.

${table(
  [
    'environments',
    'caching',
    'GetSecretValue calls',
    'GetParameter calls',
    'Secrets Manager $',
    'Parameter Store $',
    'cold-start storm',
  ],
  rows,
)}

What a storm of first reads does against these quotas, simulated from 10 to 10,000 environments, and
what to set: [scaling.md](scaling.md).`
}
