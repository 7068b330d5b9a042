import { type Agent, request as httpRequest, type IncomingHttpHeaders } from 'node:http'
import { afterEach, expect } from 'vitest'
import {
  type Emulator,
  type EmulatorOptions,
  type EmulatorValues,
  startEmulator,
} from '../../src/emulator/index.js'

// Shared by the emulator's tests: fixture values, an emulator per test, and a raw HTTP client, so the
// emulator is tested without the package's own client.

export const token = 'session-token-9f8e7d'

export const values: EmulatorValues = {
  parameters: {
    '/app/url': 'https://example.com',
    '/app/hosts': { type: 'StringList', value: ['a', 'b'] },
    '/app/key': { type: 'SecureString', value: 'param-secret-value' },
    '/app/flags': { versions: ['{"a":1}', '{"a":2}', '{"a":3}'], labels: { Prod: 2 } },
    '/app/datatype': { value: 'ami-123', dataType: 'aws:ec2:image' },
    '/app/forbidden': 'forbidden-param-value',
    plain: 'no leading slash',
  },
  secrets: {
    'prod/plain': 'a string secret',
    'prod/db': { json: { username: 'app', password: 'pw<&>' } },
    'prod/cert': { binary: 'AAECAw==' },
    'prod/api-key': {
      versions: [
        { stages: ['AWSPREVIOUS'], string: 'old-key' },
        { stages: ['AWSCURRENT'], string: 'new-key', versionId: 'explicit-current' },
        { stages: ['AWSPENDING'], json: { k: 1 } },
      ],
    },
    'prod/forbidden': 'forbidden-secret-value',
  },
  denied: ['/app/forbidden', 'prod/forbidden'],
}

export const started: Emulator[] = []

export async function emulate(options: EmulatorOptions = {}): Promise<Emulator> {
  const emulator = await startEmulator({ values, ...options })
  started.push(emulator)
  return emulator
}

afterEach(async () => {
  await Promise.all(started.splice(0).map((emulator) => emulator.close()))
})

export interface Reply {
  status: number
  body: string
  headers: IncomingHttpHeaders
}

export interface Ask {
  /** null sends no token header. */
  token?: string | null
  method?: string
  headers?: Record<string, string>
  agent?: Agent
}

export function ask(emulator: Emulator, path: string, options: Ask = {}): Promise<Reply> {
  const { method = 'GET', headers = {}, agent } = options
  const sent = options.token === undefined ? token : options.token
  return new Promise((resolve, reject) => {
    const request = httpRequest(
      {
        host: '127.0.0.1',
        port: emulator.port,
        path,
        method,
        agent: agent ?? false,
        headers: { ...(sent === null ? {} : { 'X-Aws-Parameters-Secrets-Token': sent }), ...headers },
      },
      (response) => {
        let body = ''
        response.setEncoding('utf8')
        response.on('data', (chunk: string) => {
          body += chunk
        })
        response.on('end', () =>
          resolve({ status: response.statusCode ?? 0, body, headers: response.headers }),
        )
        response.on('error', reject)
      },
    )
    request.on('error', reject)
    request.end()
  })
}

export const secret = (secretId: string, extra = '') =>
  `/secretsmanager/get?secretId=${encodeURIComponent(secretId)}${extra}`
export const parameter = (name: string, extra = '') =>
  `/systemsmanager/parameters/get?name=${encodeURIComponent(name)}${extra}`

export async function askJson(emulator: Emulator, path: string): Promise<any> {
  const reply = await ask(emulator, path)
  expect(reply.status, reply.body).toBe(200)
  return JSON.parse(reply.body)
}

export const errorCode = (promise: Promise<unknown>) =>
  promise.then(
    () => 'answered',
    (error: NodeJS.ErrnoException) => error.code,
  )

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))
