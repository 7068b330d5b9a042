// onEvent → CloudWatch metrics without any library: one Embedded Metric Format (EMF) line per event,
// written to stdout, which Lambda sends to CloudWatch Logs; CloudWatch extracts the metrics from it.
import type { ExtensionSecretsEvent } from 'middy-extension-secrets'

/** Writes EMF lines; `write` is `console.log` in a function, and a collector in tests. */
export const emfEvents =
  (namespace: string, write: (line: string) => void = console.log) =>
  (event: ExtensionSecretsEvent): void => {
    // One metric per event type, per key: a handful of keys keeps the dimension's cardinality small.
    const metrics: { Name: string; Unit: 'Count' | 'Milliseconds' }[] = [
      { Name: `ExtensionSecrets.${event.type}`, Unit: 'Count' },
    ]
    const values: Record<string, number> = { [`ExtensionSecrets.${event.type}`]: 1 }
    if (event.type === 'fetched') {
      metrics.push({ Name: 'ExtensionSecrets.fetchMs', Unit: 'Milliseconds' })
      values['ExtensionSecrets.fetchMs'] = event.elapsedMs
    }
    write(
      JSON.stringify({
        _aws: {
          Timestamp: Date.now(),
          CloudWatchMetrics: [{ Namespace: namespace, Dimensions: [['Key']], Metrics: metrics }],
        },
        Key: event.key,
        ...values,
        // Not metrics: searchable fields of the log line. Events hold no value and no token.
        event,
      }),
    )
  }
