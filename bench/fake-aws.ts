import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'

/**
 * A stand-in for the SSM and Secrets Manager JSON APIs on loopback, so that the SDK-based contenders do
 * real HTTP on this machine, as the extension-based ones do with the emulator. It answers the three calls
 * they make (GetParameter, GetParameters, GetSecretValue) in the shapes the SDK parses, and does no
 * signature check: the SDK still signs every request, as it must against AWS.
 */
export interface FakeAws {
  url: string
  /** Calls answered, by operation. */
  calls: Map<string, number>
  close(): Promise<void>
}

const region = 'us-east-1'
const account = '123456789012'

export const startFakeAws = async (values: {
  parameters: Record<string, string>
  secrets: Record<string, string>
}): Promise<FakeAws> => {
  const calls = new Map<string, number>()
  const created = Math.floor(Date.UTC(2026, 0, 1) / 1000)
  const parameter = (name: string) => ({
    Name: name,
    Type: 'String',
    Value: values.parameters[name],
    Version: 1,
    LastModifiedDate: created,
    ARN: `arn:aws:ssm:${region}:${account}:parameter${name.startsWith('/') ? '' : '/'}${name}`,
    DataType: 'text',
  })
  const answer = (target: string, input: Record<string, unknown>): [number, unknown] => {
    switch (target) {
      case 'AmazonSSM.GetParameter': {
        const name = String(input.Name)
        if (!(name in values.parameters)) return [400, { __type: 'ParameterNotFound' }]
        return [200, { Parameter: parameter(name) }]
      }
      case 'AmazonSSM.GetParameters': {
        const names = (input.Names as string[]) ?? []
        return [
          200,
          {
            Parameters: names.filter((name) => name in values.parameters).map(parameter),
            InvalidParameters: names.filter((name) => !(name in values.parameters)),
          },
        ]
      }
      case 'secretsmanager.GetSecretValue': {
        const id = String(input.SecretId)
        if (!(id in values.secrets)) {
          return [400, { __type: 'ResourceNotFoundException', message: "Secrets Manager can't find it" }]
        }
        return [
          200,
          {
            ARN: `arn:aws:secretsmanager:${region}:${account}:secret:${id}-AbCdEf`,
            Name: id,
            SecretString: values.secrets[id],
            VersionId: '00000000-0000-4000-8000-000000000001',
            VersionStages: ['AWSCURRENT'],
            CreatedDate: created,
          },
        ]
      }
      default:
        return [400, { __type: 'UnknownOperationException' }]
    }
  }
  const server: Server = createServer((request, response) => {
    const chunks: Buffer[] = []
    request.on('data', (chunk: Buffer) => chunks.push(chunk))
    request.on('end', () => {
      const target = String(request.headers['x-amz-target'] ?? '')
      calls.set(target, (calls.get(target) ?? 0) + 1)
      let input: Record<string, unknown> = {}
      try {
        input = JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}')
      } catch {}
      const [status, body] = answer(target, input)
      const text = JSON.stringify(body)
      response.writeHead(status, {
        'content-type': 'application/x-amz-json-1.1',
        'content-length': Buffer.byteLength(text),
        'x-amzn-requestid': '00000000-0000-4000-8000-000000000000',
      })
      response.end(text)
    })
  })
  // The SDK keeps connections alive; so does this server, for longer than any pause in the bench.
  server.keepAliveTimeout = 60_000
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  return {
    url: `http://127.0.0.1:${port}`,
    calls,
    close: () =>
      new Promise((resolve) => {
        server.close(() => resolve())
        server.closeAllConnections()
      }),
  }
}
