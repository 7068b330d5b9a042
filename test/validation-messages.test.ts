import middy from '@middy/core'
import { describe, expect, test } from 'vitest'
import { z } from 'zod'
import type { FaultRule } from '../src/emulator/index.js'
import { extensionSecrets, type FetchEntry, parameter, type StandardSchemaV1, secret } from '../src/index.js'
import { allText, failureOf, lambdaContext, testToken, useEmulator } from './helpers.js'

// The rule for validator messages (issue 11, finding 2), both ways: a value from a sensitive source
// (a secret, a SecureString, a parameter whose type is not known) gives only the number of issues; a
// String or StringList parameter is configuration, and keeps the validator's paths and messages.
// valibot and arktype are not installed: these validators produce messages shaped as theirs are.

const start = useEmulator()

const marker = 'VALMARK-3c9e'
/** A connection string whose prefix and suffix hold no marker: a prefix or suffix must leak nothing either. */
const dsn = `mysql://admin:${marker}-pw@db-host:3306/app`
const flags = '{"newCheckout":"yes","maxItems":3}'

const standard = (
  vendor: string,
  validate: (value: unknown) => StandardSchemaV1.Issue[],
): StandardSchemaV1<unknown, never> => ({
  '~standard': {
    version: 1,
    vendor,
    validate: (value) => ({ issues: validate(value) }),
  },
})

/** valibot's `startsWith`: `Invalid start: Expected "…" but received "<as many characters of the input>"`. */
const valibotStartsWith = (requirement: string) =>
  standard('valibot', (value) => {
    const text = String(value)
    return text.startsWith(requirement)
      ? []
      : [
          {
            message: `Invalid start: Expected "${requirement}" but received "${text.slice(0, requirement.length)}"`,
          },
        ]
  })

/** valibot's `endsWith`, which prints the input's suffix. */
const valibotEndsWith = (requirement: string) =>
  standard('valibot', (value) => {
    const text = String(value)
    return text.endsWith(requirement)
      ? []
      : [
          {
            message: `Invalid end: Expected "${requirement}" but received "${text.slice(-requirement.length)}"`,
          },
        ]
  })

/** arktype's messages end with the input: `must be matched by ^postgres:.* (was "…")`; paths are keys. */
const arktypeLike = standard('arktype', (value) => {
  if (typeof value === 'string') return [{ message: `must be matched by ^postgres:.* (was "${value}")` }]
  if (Array.isArray(value))
    return value.map((item, index) => ({
      message: `value at [${index}] must be a URL (was "${item}")`,
      path: [{ key: index }],
    }))
  return Object.entries(value as object).map(([key, item]) => ({
    message: `${key} must be boolean (was ${JSON.stringify(item)})`,
    path: [key],
  }))
})

/** zod, with a custom error that quotes its input, as a user may write. */
const zodQuoting = z.string().refine((text) => text.startsWith('postgres://'), {
  error: (issue) => `expected a postgres URL, got ${String(issue.input)}`,
})

const run = async (fetchData: Record<string, FetchEntry>, faults: FaultRule[] = []) => {
  const emulator = await start({
    values: {
      parameters: {
        '/app/flags': flags,
        '/app/hosts': { type: 'StringList', value: ['a.example.com', 'b.example.com'] },
        '/app/dsn': { type: 'SecureString', value: dsn },
      },
      secrets: { 'prod/dsn': dsn, 'prod/map': { json: { [`tenant-${marker}`]: 'x' } } },
    },
    faults,
  })
  const handler = middy()
    .use(extensionSecrets({ fetchData, port: emulator.port, token: testToken }))
    .handler(async () => 'ok')
  const error = await failureOf(() => handler({}, lambdaContext()))
  expect(error.errors?.map((item) => item.code)).toEqual(Object.keys(fetchData).map(() => 'VALIDATION_ERROR'))
  return error
}

describe('values from sensitive sources: no part of the value, whatever the validator', () => {
  const validators: [string, StandardSchemaV1][] = [
    ['valibot startsWith', valibotStartsWith('postgres://admin:')],
    ['valibot endsWith', valibotEndsWith('@db-host:3306/main')],
    ['arktype', arktypeLike],
    ['zod with a quoting error', zodQuoting],
  ]
  // A parameter answered without its Type may be a SecureString: it is treated as one.
  const untyped: FaultRule = {
    action: 'respond',
    status: 200,
    body: JSON.stringify({ Parameter: { Name: '/app/untyped', Value: dsn } }),
    match: { name: '/app/untyped' },
  }

  test.each(validators)('%s on a secret, a SecureString and an untyped parameter', async (_name, schema) => {
    const error = await run(
      {
        secretDsn: secret('prod/dsn', { schema }),
        secureDsn: parameter('/app/dsn', { schema }),
        untypedDsn: parameter('/app/untyped', { schema }),
      },
      [untyped],
    )
    for (const item of error.errors ?? [])
      expect(item.message).toMatch(
        /: the schema rejected the value \(1 issue; messages withheld: the value is secret\)$/,
      )
    const text = [await allText(error), ...(await Promise.all((error.errors ?? []).map(allText)))].join('\n')
    // Neither the secret part nor the prefix or suffix around it.
    for (const part of [marker, 'mysql://', 'admin', 'db-host', '3306/app']) expect(text).not.toContain(part)
  })

  test('zod on a map of secrets keyed by secret names: the keys (paths) are withheld too', async () => {
    const error = await run({ tenants: secret('prod/map', { schema: z.record(z.string(), z.number()) }) })
    expect(error.errors?.[0]?.message).toContain('(1 issue; messages withheld: the value is secret)')
    expect(await allText(error)).not.toContain(marker)
  })
})

describe('String and StringList parameters: the validator paths and messages, short values included', () => {
  test('zod on a flags parameter names each field and what was expected', async () => {
    const schema = z.object({ newCheckout: z.boolean(), maxItems: z.number().max(2) })
    const error = await run({ flags: parameter('/app/flags', { schema }) })
    expect(error.errors?.[0]?.reason).toBe(
      'flags (parameter "/app/flags"): the schema rejected the value: newCheckout: Invalid input: expected boolean, received string; maxItems: Too big: expected number to be <=2',
    )
  })

  test('valibot-shaped messages on a String parameter are kept as they are', async () => {
    const error = await run({
      start: parameter('/app/flags', { parse: 'text', schema: valibotStartsWith('[') }),
      end: parameter('/app/flags', { parse: 'text', schema: valibotEndsWith(']') }),
    })
    expect(error.errors?.[0]?.message).toContain(
      'the schema rejected the value: (root): Invalid start: Expected "[" but received "{"',
    )
    expect(error.errors?.[1]?.message).toContain(
      'the schema rejected the value: (root): Invalid end: Expected "]" but received "}"',
    )
  })

  test('arktype-shaped messages on a StringList parameter keep their paths', async () => {
    const error = await run({ hosts: parameter('/app/hosts', { schema: arktypeLike }) })
    expect(error.errors?.[0]?.message).toContain(
      'the schema rejected the value: 0: value at [0] must be a URL (was "a.example.com"); 1: value at [1] must be a URL (was "b.example.com")',
    )
  })

  test('more than five issues: five shown, the rest counted', async () => {
    const many = standard('test', () =>
      Array.from({ length: 8 }, (_, index) => ({ message: `issue ${index}`, path: [`f${index}`] })),
    )
    const error = await run({ flags: parameter('/app/flags', { schema: many }) })
    expect(error.errors?.[0]?.message).toMatch(/f4: issue 4; and 3 more$/)
    expect(error.errors?.[0]?.message).not.toContain('issue 5')
  })
})
