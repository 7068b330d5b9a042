// The floor: what any Middy handler that talks HTTP imports. No middleware, no request.
import 'node:http'
import middy from '@middy/core'

export const createHandler = () => middy().handler(async () => ({ count: 0, chars: 0 }))
