// The middleware's options for each storm setting, imported by the environments' handler processes and
// by the model (model.ts reads the same p-retry options). `recommended` is what docs/scaling.md tells a
// team expecting cold-start storms to set; its numbers come from the storm tables there.

export const recommendedColdStartRetry = { retries: 5, minTimeout: 2_000, maxTimeout: 8_000 }

/** @param {'default' | 'recommended'} settings */
export const middlewareOptions = (settings) =>
  settings === 'default' ? {} : { coldStartRetry: recommendedColdStartRetry }
