// The middleware's options for each storm setting, imported by the environments' handler processes and
// by the model (storm-bench.ts reads the same numbers). `recommended` is what docs/scaling.md tells a team
// expecting cold-start storms to set; the schedules table there shows what it trades.

export const recommended = {
  coldStartRetry: { retries: 5, minTimeout: 2_000, maxTimeout: 8_000 },
  // Above a throttled read's slowest answer (two backoffs of up to 2 and 4 s, three calls), so that an
  // attempt is not cut and sent again while the layer still retries upstream.
  requestTimeout: 7_000,
}

/** @param {'default' | 'recommended'} settings */
export const middlewareOptions = (settings) => (settings === 'default' ? {} : recommended)
