// An SQS handler with partial batch responses (ReportBatchItemFailures on the event source mapping).
// The values are fetched once per batch, before any record is touched: if the extension cannot serve
// them, the whole invocation fails and SQS delivers the batch again, rather than every record being
// reported as failed one by one.
import { createHmac } from 'node:crypto'
import middy from '@middy/core'
import type { SQSBatchResponse, SQSEvent } from 'aws-lambda'
import { extensionSecrets, parameter, secret } from 'middy-extension-secrets'

export interface Delivery {
  messageId: string
  destination: string
  signature: string
}

/** Where processed records go; a real function would send them on (HTTP, another queue...). */
export const delivered: Delivery[] = []

export const handler = middy<SQSEvent, SQSBatchResponse>()
  .use(
    extensionSecrets({
      fetchData: {
        signingKey: secret('prod/webhook-signing-key', { parse: 'text' }),
        destinations: parameter('/webhooks/destinations', { parse: 'list' }), // a StringList
      },
    }),
  )
  .handler(async (event, context) => {
    const batchItemFailures: SQSBatchResponse['batchItemFailures'] = []
    for (const record of event.Records) {
      try {
        const { tenant, payload } = JSON.parse(record.body) as { tenant?: unknown; payload?: unknown }
        const destination = context.destinations.find((url) => url.endsWith(`/${String(tenant)}`))
        if (destination === undefined) throw new Error(`no destination for tenant ${String(tenant)}`)
        const signature = createHmac('sha256', context.signingKey)
          .update(JSON.stringify(payload ?? null))
          .digest('hex')
        delivered.push({ messageId: record.messageId, destination, signature })
      } catch {
        batchItemFailures.push({ itemIdentifier: record.messageId })
      }
    }
    return { batchItemFailures }
  })
