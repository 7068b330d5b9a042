import { readFileSync } from 'node:fs'
import { Ajv2020 } from 'ajv/dist/2020.js'
import { describe, expect, it } from 'vitest'
import { validateValues } from '../../src/emulator/index.js'
import { fixtureValues } from '../helpers.js'

// The JSON Schema of values files (docs/emulator-values.schema.json) and the emulator's own checks
// must agree: what one accepts the other accepts, for the documented example and the test fixtures,
// and the structural mistakes below are refused by both.

const readJson = (path: string) => JSON.parse(readFileSync(new URL(path, import.meta.url), 'utf8'))
const schema = readJson('../../docs/emulator-values.schema.json')
const validate = new Ajv2020({ strict: true, strictRequired: false, allErrors: true }).compile(schema)

describe('the values JSON Schema', () => {
  it.each([
    ['the example values file', readJson('../../examples/emulator-values.json')],
    ['the test fixtures', JSON.parse(JSON.stringify(fixtureValues))],
    ['an empty object', {}],
  ])('accepts %s, as the emulator does', (_name, values) => {
    expect(validate(values), JSON.stringify(validate.errors)).toBe(true)
    expect(() => validateValues(values)).not.toThrow()
  })

  it.each([
    ['an unknown top-level key', { parameter: {} }],
    ['an unknown parameter type', { parameters: { '/a': { type: 'Number', value: '1' } } }],
    ['a parameter with both value and versions', { parameters: { '/a': { value: 'x', versions: ['y'] } } }],
    ['an empty versions list', { parameters: { '/a': { versions: [] } } }],
    ['a StringList item with a comma', { parameters: { '/a': { type: 'StringList', value: ['a,b'] } } }],
    ['a label starting with a digit', { parameters: { '/a': { value: 'x', labels: { '1st': 1 } } } }],
    ['a reference name under parameters', { parameters: { '/aws/reference/secretsmanager/x': 'y' } }],
    ['a secret with both string and json', { secrets: { s: { string: 'a', json: {} } } }],
    ['a secret with no content', { secrets: { s: { versionId: 'v' } } }],
    ['a binary secret that is not base64', { secrets: { s: { binary: 'not base64!' } } }],
    [
      'a secret version with an unknown key',
      { secrets: { s: { versions: [{ string: 'a', stage: 'AWSCURRENT' }] } } },
    ],
    ['denied names that are not strings', { denied: [1] }],
  ])('refuses %s, as the emulator does', (_name, values) => {
    expect(validate(values)).toBe(false)
    expect(() => validateValues(values)).toThrow(TypeError)
  })
})
