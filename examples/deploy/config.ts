// The configuration of the HTTP API example (examples/http-api/handler.ts), in one module its deployments
// share: the CDK stack passes it to extensionSecretsFor, `extension-secrets-policy --module` prints what
// SAM, Serverless and Terraform need from it, and test/deploy.test.ts checks every deployment file
// against what extensionDeployment computes from it (and that the handler reads exactly these names).
import { parameter, secret } from 'middy-extension-secrets'
import type { ExtensionSettings } from 'middy-extension-secrets/deploy'

export type PartnerCredentials = { apiKey: string; accountId: string }
export type Prices = Record<string, number>

export const fetchData = {
  partner: secret<PartnerCredentials>('prod/partner-api'),
  prices: parameter<Prices>('/shop/prices', { parse: 'json' }),
  partnerUrl: parameter('/shop/partner-url', { parse: 'text' }),
}

// Prices change rarely: the handler keeps them for a minute in its process; the extension's TTLs follow.
export const cacheExpiry = 60_000

/** The extension's settings besides its TTLs, which follow cacheExpiry. */
export const extensionSettings: ExtensionSettings = { logLevel: 'info' }
