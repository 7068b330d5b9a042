import { describe, expect, it } from 'vitest'
import { startEmulator, validateValues } from '../../src/emulator/index.js'
import { ask, emulate, secret, values } from './helpers.js'

// Validation of options and of the values format.

describe('options and values', () => {
  it('reports the first invalid value with its path', () => {
    const cases: [unknown, RegExp][] = [
      [
        { parameters: { '/a': { type: 'Text', value: 'x' } } },
        /^parameters\["\/a"\]\.type: expected String, StringList or SecureString$/,
      ],
      [{ parameters: { '/a': { value: ['x'] } } }, /^parameters\["\/a"\]\.value: expected a string$/],
      [
        { parameters: { '/a': { versions: ['x'], labels: { Prod: 2 } } } },
        /^parameters\["\/a"\]\.labels\["Prod"\]/,
      ],
      [
        { parameters: { '/a': { value: 'x', versions: ['y'] } } },
        /^parameters\["\/a"\]: expected exactly one of/,
      ],
      [
        { secrets: { s: { versions: [{ stages: ['AWSPREVIOUS'], string: 'x' }] } } },
        /^secrets\["s"\]\.versions: .*AWSCURRENT/,
      ],
      [
        { secrets: { s: { string: 'x', binary: 'AA==' } } },
        /^secrets\["s"\]: expected exactly one of string, json or binary$/,
      ],
      [{ secrets: { s: { binary: 'not base64!' } } }, /^secrets\["s"\]\.binary: expected a base64 string$/],
      [
        {
          secrets: {
            s: {
              versions: [
                { stages: ['AWSCURRENT'], string: 'x' },
                { stages: ['AWSCURRENT'], string: 'y' },
              ],
            },
          },
        },
        /^secrets\["s"\]\.versions\[1\]\.stages: stage "AWSCURRENT" is already on versions\[0\]$/,
      ],
      [{ denied: ['ok', 3] }, /^denied\[1\]: expected a non-empty string$/],
      [{ secret: {} }, /^secret: unknown key/],
      [[], /^values: expected an object$/],
    ]
    for (const [input, message] of cases) expect(() => validateValues(input)).toThrow(message)
    expect(validateValues(values)).toBe(values)
  })

  it('rejects invalid values and options when starting and when rotating', async () => {
    await expect(startEmulator({ values: { parameters: { '/a': 3 as never } } })).rejects.toThrow(
      /^values\.parameters\["\/a"\]: expected a string or an object$/,
    )
    await expect(startEmulator({ host: '0.0.0.0' })).rejects.toThrow(TypeError)
    await expect(startEmulator({ host: '192.168.1.1' })).rejects.toThrow(
      /^host: expected an IP literal that is loopback/,
    )
    await expect(startEmulator({ port: -1 })).rejects.toThrow(/^port:/)
    await expect(startEmulator({ tokn: 'x' } as never)).rejects.toThrow(/^tokn: unknown key/)
    const emulator = await emulate()
    expect(() => emulator.setValues({ secrets: { s: {} } })).toThrow(/^values\.secrets\["s"\]/)
    expect((await ask(emulator, secret('prod/plain'))).status).toBe(200)
  })

  it('listens on the loopback URL it reports', async () => {
    const emulator = await emulate()
    expect(emulator.url).toBe(`http://127.0.0.1:${emulator.port}`)
    expect(emulator.port).toBeGreaterThan(0)
  })
})
