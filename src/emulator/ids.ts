import { createHash } from 'node:crypto'

// Everything the emulator invents (version ids, ARN suffixes, dates, ciphertexts) is derived from names
// and positions only, so answers are stable across runs and never carry anything of a value.
const digest = (...parts: string[]): Buffer => createHash('sha256').update(parts.join('\0')).digest()

export function secretVersionId(secretName: string, index: number): string {
  const hex = digest('version-id', secretName, String(index)).toString('hex')
  const variant = '89ab'[Number.parseInt(hex.charAt(16), 16) & 3]
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(13, 16)}-${variant}${hex.slice(17, 20)}-${hex.slice(20, 32)}`
}

const suffixAlphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789'

/** The six characters Secrets Manager appends to a secret's name in its ARN. */
export function secretArnSuffix(secretName: string): string {
  return [...digest('arn-suffix', secretName).subarray(0, 6)]
    .map((byte) => suffixAlphabet.charAt(byte % suffixAlphabet.length))
    .join('')
}

const firstDay = Date.UTC(2024, 0, 1, 8, 0, 0)
const day = 86_400_000

/** Version n of a name is dated one day after version n - 1, at a time of day taken from the name. */
export function versionDate(kind: 'parameter' | 'secret', name: string, index: number): Date {
  const timeOfDay = digest('date', kind, name).readUInt32BE(0) % (day / 2)
  return new Date(firstDay + index * day + timeOfDay)
}

// KMS ciphertext blobs of a SecureString start with these bytes; the next one puts `AQICAHi` in front.
const kmsBlobHeader = Buffer.from([0x01, 0x02, 0x02, 0x00, 0x78])

/**
 * What the layer answers for a SecureString asked without decryption: shaped like a KMS blob, but
 * derived from the name and version only, so it cannot reveal or encode the clear value.
 */
export function fakeCiphertext(parameterName: string, version: number): string {
  const blocks = [0, 1, 2].map((block) => digest('ciphertext', parameterName, String(version), String(block)))
  const body = Buffer.concat(blocks)
  body.writeUInt8(0x80 | (body.readUInt8(0) & 0x3f), 0)
  return Buffer.concat([kmsBlobHeader, body]).toString('base64')
}
