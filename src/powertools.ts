import type { EventHook, ExtensionSecretsEvent } from './events.js'

// Structural types of the parts of Powertools for AWS Lambda used here, so that this package does not
// depend on it: any object with these methods works (a Powertools Logger / Metrics, or a test double).
// Checked against Powertools 2's own declarations (Logger's extra input, Metrics' MetricUnit strings).

export interface LoggerLike {
  debug(message: string, attributes: { extensionSecrets: ExtensionSecretsEvent }): void
  warn(message: string, attributes: { extensionSecrets: ExtensionSecretsEvent }): void
}

export interface MetricsLike {
  /** Powertools' `MetricUnit` values are these strings. */
  addMetric(name: string, unit: 'Count' | 'Milliseconds', value: number): void
}

export interface PowertoolsEventsOptions {
  /** Failures and stale values at `warn`; the rest at `debug`. */
  logger?: LoggerLike
  /** One count per event type, and the fetch and readiness times. No per-key dimension: see docs. */
  metrics?: MetricsLike
}

/** Metric names, by event type: stable, so dashboards and alarms can rely on them. */
export const metricNames = {
  hit: 'ExtensionSecretsCacheHit',
  fetched: 'ExtensionSecretsFetch',
  failed: 'ExtensionSecretsFailure',
  stale: 'ExtensionSecretsStaleServed',
  missing: 'ExtensionSecretsMissing',
} as const satisfies Record<ExtensionSecretsEvent['type'], string>

// A missing optional value (a feature flag not created yet) is normal: logged at debug, counted.
const warnings = new Set<ExtensionSecretsEvent['type']>(['failed', 'stale'])

/**
 * An `onEvent` hook that logs each event with a Powertools Logger and counts it with Powertools Metrics
 * (flushed by Powertools' own middleware or `publishStoredMetrics()`). Events hold no value and no
 * token, so they can be logged as they are.
 */
export const powertoolsEvents = ({ logger, metrics }: PowertoolsEventsOptions): EventHook => {
  return (event) => {
    if (logger !== undefined) {
      const message = `middy-extension-secrets ${event.type}`
      if (warnings.has(event.type)) logger.warn(message, { extensionSecrets: event })
      else logger.debug(message, { extensionSecrets: event })
    }
    if (metrics !== undefined) {
      metrics.addMetric(metricNames[event.type], 'Count', 1)
      if (event.type === 'fetched') {
        metrics.addMetric('ExtensionSecretsFetchTime', 'Milliseconds', event.elapsedMs)
      }
    }
  }
}
