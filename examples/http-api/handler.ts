// An API Gateway HTTP API (payload 2.0) handler: the order body is parsed by Middy's JSON body parser,
// the partner credentials and the pricing table come through the extension, and every failure becomes
// an HTTP answer through Middy's error handler. A failure to fetch a value is a 500 with no details:
// the ExtensionSecretsError (its code, key and reason, never a value) goes to the function's logs.
import middy from '@middy/core'
import httpErrorHandler from '@middy/http-error-handler'
import httpJsonBodyParser from '@middy/http-json-body-parser'
import { createError } from '@middy/util'
import type { APIGatewayProxyEventV2, APIGatewayProxyResultV2 } from 'aws-lambda'
import { extensionSecrets, parameter, secret } from 'middy-extension-secrets'

type PartnerCredentials = { apiKey: string; accountId: string }
type Prices = Record<string, number>

// The JSON body parser replaces the string body with the parsed value.
type OrderEvent = Omit<APIGatewayProxyEventV2, 'body'> & { body: unknown }

export const handler = middy<OrderEvent, APIGatewayProxyResultV2>()
  .use(httpJsonBodyParser())
  .use(
    extensionSecrets({
      fetchData: {
        partner: secret<PartnerCredentials>('prod/partner-api'),
        prices: parameter<Prices>('/shop/prices', { parse: 'json' }),
        partnerUrl: parameter('/shop/partner-url', { parse: 'text' }),
      },
      // Prices change rarely: keep them for a minute in this process on top of the extension's cache.
      cacheExpiry: 60_000,
    }),
  )
  .use(httpErrorHandler())
  .handler(async (event, context) => {
    const order = event.body as { item?: unknown; quantity?: unknown } | null
    const item = typeof order?.item === 'string' ? order.item : undefined
    const quantity = order?.quantity
    if (item === undefined || !Number.isInteger(quantity) || (quantity as number) < 1) {
      throw createError(400, 'an order needs an `item` and a positive integer `quantity`')
    }
    const price = context.prices[item]
    if (price === undefined) throw createError(404, `no price for item ${JSON.stringify(item)}`)
    // A real handler would call the partner here, with context.partner.apiKey in a header.
    return {
      statusCode: 201,
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        item,
        quantity,
        total: price * (quantity as number),
        partnerAccount: context.partner.accountId,
        submitTo: context.partnerUrl,
      }),
    }
  })
