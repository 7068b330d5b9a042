import { createAccount } from '../emulator/account.js'
import type { FaultRule } from '../emulator/faults.js'
import { startEmulator } from '../emulator/server.js'
import { type CommandOptions, commandName } from './args.js'
import { variables } from './environment.js'
import { type LoadedValues, loadValuesFile, ValuesFileError, watchValuesFile } from './values-file.js'

export interface Output {
  out(line: string): void
  err(line: string): void
}

export interface RunningCommand {
  port: number
  /** Rehearses a cold start again: empties the cache and restarts --refuse-ms and --not-ready-ms. */
  coldStart(): void
  close(): Promise<void>
}

/** A failure to start that the command reports in one line (and exits 1). */
export class StartError extends Error {
  override name = 'StartError'
}

/**
 * Starts the emulator on the values file, prints where it listens and how to point a handler at it,
 * and reloads the file on every change. Nothing it prints holds a value or the token.
 * @throws StartError when the file or an option cannot be used, or the port is taken
 */
export async function startEmulatorCommand(options: CommandOptions, output: Output): Promise<RunningCommand> {
  const { valuesPath } = options
  let loaded: LoadedValues
  try {
    loaded = await loadValuesFile(valuesPath)
  } catch (error) {
    throw error instanceof ValuesFileError ? new StartError(error.message) : error
  }
  const faults = coldStartFaults(options)
  const { throughput } = options
  let emulator: Awaited<ReturnType<typeof startEmulator>>
  try {
    emulator = await startEmulator({
      ...options.settings,
      flavour: options.flavour,
      values: loaded.values,
      token: options.token,
      port: options.port,
      host: options.host,
      faults,
      recordLimit: options.recordLimit,
      upstream: {
        parameterLatencyMs: options.latencyMs.parameter,
        secretLatencyMs: options.latencyMs.secret,
      },
      ...(options.maxConn === undefined ? {} : { maxConn: options.maxConn }),
      // Either quota flag models the account; the other service then has its AWS default.
      ...(throughput.getParameter === undefined && throughput.getSecretValue === undefined
        ? {}
        : {
            account: createAccount({
              ...(throughput.getParameter === undefined
                ? {}
                : { getParameterPerSecond: throughput.getParameter }),
              ...(throughput.getSecretValue === undefined
                ? {}
                : { getSecretValuePerSecond: throughput.getSecretValue }),
            }),
          }),
      // One line per request, in the layer's style; never a value or a token.
      log: output.out,
    })
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code
    if (code === 'EADDRINUSE') {
      throw new StartError(
        `port ${options.port} is in use (another emulator or extension?); choose one with --port`,
      )
    }
    if (code === 'EADDRNOTAVAIL')
      throw new StartError(`--host ${options.host}: not an address of this machine`)
    // The emulator's option errors name the option and never hold the token.
    if (error instanceof TypeError) throw new StartError(nameTheSource(error.message))
    throw error
  }

  let lastText = loaded.text
  let lastFailure: string | undefined
  let reloading = Promise.resolve()
  const reload = async () => {
    try {
      const next = await loadValuesFile(valuesPath)
      if (next.text === lastText) return
      // A developer who edits the file wants the edit served now, not after the layer's TTL.
      emulator.setValues(next.values)
      lastText = next.text
      lastFailure = undefined
      output.out(`reloaded ${valuesPath}: ${next.summary}`)
    } catch (error) {
      if (!(error instanceof ValuesFileError)) {
        output.err(`not reloaded, still serving the previous values: ${(error as Error).name}`)
        return
      }
      // An editor's burst of saves of the same broken file gets one message.
      if (error.message === lastFailure) return
      lastFailure = error.message
      output.err(`not reloaded, still serving the previous values: ${error.message}`)
    }
  }
  const watcher = watchValuesFile(
    valuesPath,
    () => {
      reloading = reloading.then(reload)
    },
    (error) =>
      output.err(`stopped watching ${valuesPath} (${(error as NodeJS.ErrnoException).code ?? 'error'})`),
  )
  // Printed once the folder is watched: whoever reads the port may edit the file at once.
  for (const line of banner(options, emulator.port, loaded.summary)) output.out(line)

  return {
    port: emulator.port,
    coldStart() {
      // A new execution environment: an empty cache, and the start-up windows from now.
      emulator.clearCache()
      emulator.setFaults(faults)
      output.out(
        `cold start: cache emptied${faults.length > 0 ? ', --refuse-ms and --not-ready-ms start over' : ''}`,
      )
    },
    async close() {
      watcher.close()
      await reloading
      await emulator.close()
    },
  }
}

/** An option error names the option; the command's user set an environment variable or a flag. */
function nameTheSource(message: string): string {
  const key = message.slice(0, message.indexOf(':'))
  const variable = (variables as Record<string, string>)[key]
  return variable === undefined ? `--${message}` : `${variable}${message.slice(key.length)}`
}

/** A cold start as the function sees it: nothing listens, then the extension answers "not ready". */
function coldStartFaults(options: CommandOptions): FaultRule[] {
  const faults: FaultRule[] = []
  if (options.refuseMs > 0) faults.push({ action: 'refuse', forMs: options.refuseMs })
  if (options.notReadyMs > 0) {
    faults.push({ action: 'not-ready', afterMs: options.refuseMs, forMs: options.notReadyMs })
  }
  return faults
}

function banner(options: CommandOptions, port: number, summary: string): string[] {
  const host = options.host.includes(':') ? `[${options.host}]` : options.host
  const lines = [
    `${commandName}: serving ${options.valuesPath} (${summary}) on http://${host}:${port} as the ${options.flavour === 'agent' ? 'Secrets Manager Agent' : 'Parameters and Secrets Lambda Extension'}`,
    `Point a handler at it: PARAMETERS_SECRETS_EXTENSION_HTTP_PORT=${port}`,
  ]
  if (options.host !== '127.0.0.1') lines.push(`  and the middleware's host option: '${options.host}'`)
  if (options.token === undefined) {
    lines.push(
      'Any non-empty token is accepted and never printed. The middleware sends AWS_SESSION_TOKEN; where it is',
      'not set, give the process one of its own, leaving a real one untouched:',
      `  PARAMETERS_SECRETS_EXTENSION_HTTP_PORT=${port} AWS_SESSION_TOKEN="\${AWS_SESSION_TOKEN:-local}" node your-script.js`,
    )
  } else {
    lines.push(`Requests must carry the token given with --token (pass it as the middleware's token option).`)
  }
  if (options.refuseMs > 0) lines.push(`Refusing connections for the first ${options.refuseMs} ms.`)
  if (options.notReadyMs > 0) {
    const from = options.refuseMs > 0 ? 'then' : 'at first'
    lines.push(`Answering "not ready to serve traffic" ${from} for ${options.notReadyMs} ms.`)
  }
  lines.push(`Watching ${options.valuesPath} for changes. SIGHUP rehearses a cold start again; Ctrl-C stops.`)
  return lines
}
