import { isLoopbackAddress } from '../loopback.js'
import { type EmulatedAccount, unthrottledAccount } from './account.js'
import { fail, isRecord, listOf, rejectUnknownKeys } from './check.js'
import { type FaultRule, validateFaults } from './faults.js'
import { type ResolvedUnconfirmed, resolveUnconfirmed, type UnconfirmedLayerBehaviour } from './layer.js'
import {
  type ExtensionSettings,
  type Flavour,
  type ResolvedSettings,
  resolveSettings,
  settingKeys,
} from './settings.js'
import { type ResolvedUpstream, resolveUpstream, type UpstreamModel } from './upstream.js'
import { compileValues, type EmulatorValues, type ValueStore } from './values.js'

export interface EmulatorOptions extends ExtensionSettings {
  /** `layer` (default): the AWS Parameters and Secrets Lambda Extension; `agent`: the AWS Secrets Manager Agent. */
  flavour?: Flavour
  /** What the emulator serves. Default `{}`. */
  values?: EmulatorValues
  /** The token requests must carry. Default: any non-empty token is accepted. */
  token?: string
  /** Default 0: an ephemeral port. */
  port?: number
  /** An IP literal Node reads as loopback: `127.x.x.x` or `::1`. Default `127.0.0.1`. */
  host?: string
  /** Default none. */
  faults?: FaultRule[]
  /** Quotas shared with other emulators, from `createAccount()`. Default: an account of its own, never throttled. */
  account?: EmulatedAccount
  /** Used in ARNs when no `account` is given. Default `us-east-1`. */
  region?: string
  /** Used in ARNs when no `account` is given. Default `123456789012`. */
  accountId?: string
  /** Time AWS takes on a cache miss. */
  upstream?: UpstreamModel
  /** The layer's behaviours no source shows, as switches. Layer only. */
  unconfirmed?: UnconfirmedLayerBehaviour
  /** The agent's `max_conn`: open connections above it get `429 Connection limit exceeded`. Default 800. Agent only. */
  maxConn?: number
  /** The agent closes each connection this long after accepting it. Default 61 000 ms. Agent only. */
  connectionLifetimeMs?: number
  /** How many requests `emulator.requests` keeps, the latest ones; `counts` covers all. Default 10 000. */
  recordLimit?: number
  /** Receives the extension's log lines (`[AWS Parameters and Secrets Lambda Extension] INFO ...`). Default: none. */
  log?: (line: string) => void
}

export interface ResolvedOptions {
  flavour: Flavour
  values: ValueStore
  token: string | undefined
  port: number
  host: string
  faults: FaultRule[]
  account: EmulatedAccount
  settings: ResolvedSettings
  upstream: ResolvedUpstream
  unconfirmed: ResolvedUnconfirmed
  maxConn: number
  connectionLifetimeMs: number
  recordLimit: number
  log: ((line: string) => void) | undefined
  /** Lines the settings produced (a clamped TTL), to log once the logger exists. */
  warnings: string[]
}

const knownKeys = [
  'flavour',
  'values',
  'token',
  'port',
  'host',
  'faults',
  'account',
  'region',
  'accountId',
  'upstream',
  'unconfirmed',
  'maxConn',
  'connectionLifetimeMs',
  'recordLimit',
  'log',
  ...settingKeys,
]
const agentOnly = ['maxConn', 'connectionLifetimeMs']
const flavours = ['layer', 'agent']

/** @throws TypeError naming the option, e.g. `port: expected an integer from 0 to 65535` */
export function resolveOptions(options: unknown): ResolvedOptions {
  if (options === undefined) options = {}
  if (!isRecord(options)) fail('options', 'expected an object')
  rejectUnknownKeys(options, knownKeys, '')
  const { flavour = 'layer', values = {}, token, port = 0, host = '127.0.0.1', faults = [] } = options
  if (typeof flavour !== 'string' || !flavours.includes(flavour))
    fail('flavour', `expected ${listOf(flavours.map((name) => `'${name}'`))}`)
  if (flavour === 'layer') {
    for (const key of agentOnly) if (options[key] !== undefined) fail(key, "only for flavour 'agent'")
  } else if (options.unconfirmed !== undefined) {
    fail('unconfirmed', "only for flavour 'layer': the agent's behaviour is in its source")
  }
  if (token !== undefined && (typeof token !== 'string' || token === ''))
    fail('token', 'expected a non-empty string')
  if (!(Number.isInteger(port) && (port as number) >= 0 && (port as number) <= 65_535)) {
    fail('port', 'expected an integer from 0 to 65535')
  }
  if (typeof host !== 'string' || !isLoopbackAddress(host)) {
    fail(
      'host',
      'expected an IP literal that is loopback (127.x.x.x or ::1), not a name such as localhost: the token must never leave the machine',
    )
  }
  const { maxConn = 800, connectionLifetimeMs = 61_000, recordLimit = 10_000, log } = options
  if (!isInteger(maxConn) || maxConn < 1 || maxConn > 1000)
    fail('maxConn', 'expected an integer from 1 to 1000')
  if (!isInteger(connectionLifetimeMs) || connectionLifetimeMs < 1)
    fail('connectionLifetimeMs', 'expected a positive integer of milliseconds')
  if (!isInteger(recordLimit) || recordLimit < 0) fail('recordLimit', 'expected a non-negative integer')
  if (log !== undefined && typeof log !== 'function') fail('log', 'expected a function')
  const warnings: string[] = []
  return {
    flavour: flavour as Flavour,
    values: compileValues(values, 'values'),
    token,
    port: port as number,
    host,
    faults: validateFaults(faults),
    account: resolveAccount(options),
    settings: resolveSettings(options, flavour as Flavour, (line) => warnings.push(line)),
    upstream: resolveUpstream(options.upstream),
    unconfirmed: resolveUnconfirmed(flavour === 'layer' ? options.unconfirmed : undefined),
    maxConn,
    connectionLifetimeMs,
    recordLimit,
    log: log as ((line: string) => void) | undefined,
    warnings,
  }
}

function resolveAccount(options: Record<string, unknown>): EmulatedAccount {
  const { account, region = 'us-east-1', accountId = '123456789012' } = options
  if (account !== undefined) {
    if (!isRecord(account) || typeof account.take !== 'function')
      fail('account', 'expected an account from createAccount()')
    for (const key of ['region', 'accountId']) {
      if (options[key] !== undefined) fail(key, 'give it to createAccount() when an account is shared')
    }
    return account as unknown as EmulatedAccount
  }
  if (typeof region !== 'string' || region === '') fail('region', 'expected a non-empty string')
  if (typeof accountId !== 'string' || accountId === '') fail('accountId', 'expected a non-empty string')
  return unthrottledAccount(region, accountId)
}

const isInteger = (value: unknown): value is number => typeof value === 'number' && Number.isInteger(value)
