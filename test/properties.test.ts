import fc from 'fast-check'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import type { Emulator } from '../src/emulator/index.js'
import { extensionSecrets } from '../src/index.js'
import { extensionClient } from './extension-client.js'
import { emulatorWith } from './helpers.js'
import { propertyRuns } from './property-runs.js'

let emulator: Emulator
beforeAll(async () => {
  emulator = await emulatorWith({ cacheEnabled: false })
})
afterAll(async () => {
  await emulator.close()
})

// Names mixing URL-reserved characters, spaces, percent signs and any Unicode (astral planes included).
const reserved = fc.constantFrom(
  '&',
  '#',
  '%',
  '+',
  ' ',
  '/',
  '?',
  '=',
  ':',
  ';',
  ',',
  '@',
  '%2B',
  '\u00e9',
  '\u{1F511}',
)
const nameArbitrary = fc
  .array(fc.oneof(reserved, fc.string({ unit: 'grapheme', minLength: 1, maxLength: 4 })), {
    minLength: 1,
    maxLength: 12,
  })
  .map((parts) => parts.join(''))
  .filter((name) => name.trim().length > 0 && name.isWellFormed() && !name.startsWith('/aws/reference/'))

describe('names round-trip exactly through the client to the extension', () => {
  test('any well-formed name reads its own value, for parameters and secrets', async () => {
    const client = extensionClient({ port: emulator.port })
    await fc.assert(
      fc.asyncProperty(nameArbitrary, async (name) => {
        emulator.setValues({ parameters: { [name]: `p:${name}` }, secrets: { [name]: `s:${name}` } })
        const parameterValue = await client.get({ service: 'parameter', name, decrypt: true })
        const secretValue = await client.get({ service: 'secret', name })
        expect(parameterValue.value.text).toBe(`p:${name}`)
        expect(secretValue.value.text).toBe(`s:${name}`)
      }),
      { numRuns: propertyRuns['names with reserved URL characters round-trip through the client'] },
    )
  })
})

describe('any fetchData is accepted or rejected at creation with a TypeError', () => {
  const entryArbitrary = fc.record(
    {
      parameter: fc.oneof(fc.string(), fc.constant('/a'), fc.integer()),
      secret: fc.oneof(fc.string(), fc.constant('a')),
      version: fc.oneof(fc.integer({ min: -2, max: 5 }), fc.double(), fc.string()),
      label: fc.oneof(fc.string(), fc.constant('')),
      versionId: fc.string(),
      versionStage: fc.constantFrom('AWSCURRENT', 'AWSPREVIOUS', ''),
      decrypt: fc.oneof(fc.boolean(), fc.string()),
      parse: fc.constantFrom('auto', 'text', 'json', 'list', 'binary', 'yaml', undefined),
      field: fc.oneof(fc.constantFrom('a', 'a.b', '.a', 'a..b', ''), fc.string()),
      schema: fc.constantFrom({}, { '~standard': { validate: () => ({ value: 1 }) } }, null),
      extra: fc.anything(),
    },
    { requiredKeys: [] },
  )
  const keyArbitrary = fc.oneof(
    fc.constantFrom(
      'db',
      '$x',
      '_y',
      'clé',
      '1abc',
      'a-b',
      '__proto__',
      'constructor',
      'awsRequestId',
      'toString',
      '',
    ),
    fc.string(),
  )

  test('creation never fails with anything but a TypeError', () => {
    fc.assert(
      fc.property(
        fc.dictionary(keyArbitrary, entryArbitrary, { maxKeys: 4 }),
        fc.anything(),
        (fetchData, extra) => {
          for (const options of [
            { fetchData },
            { fetchData, cacheExpiry: extra },
            { fetchData, retry: extra },
          ]) {
            try {
              extensionSecrets(options as never)
            } catch (error) {
              expect(error).toBeInstanceOf(TypeError)
              expect((error as Error).message).toMatch(/^middy-extension-secrets: `/)
            }
          }
        },
      ),
      { numRuns: propertyRuns['any fetchData: creation fails with nothing but a TypeError'] },
    )
  })

  test('names with a lone surrogate are rejected at creation', () => {
    fc.assert(
      fc.property(fc.string(), fc.constantFrom('\uD800', '\uDFFF', '\uDBFF'), (prefix, surrogate) => {
        expect(() => extensionSecrets({ fetchData: { a: { secret: `${prefix}${surrogate}` } } })).toThrow(
          /not well-formed UTF-16/,
        )
      }),
      { numRuns: propertyRuns['names with a lone surrogate are rejected at creation'] },
    )
  })
})
