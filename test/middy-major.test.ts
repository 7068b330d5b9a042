import * as middyUtil from '@middy/util'
import { expect, test } from 'vitest'

// The suite runs once per Middy major (MIDDY_MAJOR=7 aliases @middy/core and @middy/util to Middy 7);
// this proves the run uses the major it claims. `validateOptions` exists only in @middy/util 7.
test('the suite runs against the Middy major it was asked for', () => {
  const expected = process.env.MIDDY_MAJOR === '7' ? 'function' : 'undefined'
  expect(typeof (middyUtil as Record<string, unknown>).validateOptions).toBe(expected)
})
