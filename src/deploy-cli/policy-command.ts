import { resolve } from 'node:path'
import { pathToFileURL } from 'node:url'
import { type ExtensionDeployment, extensionDeployment } from '../deploy/index.js'
import type { PolicyCommand } from './args.js'

/** The configuration could not be read or was refused: the message says which and where. */
export class ConfigError extends Error {
  override name = 'ConfigError'
}

const loadModule = async (modulePath: string, cwd: string): Promise<Record<string, unknown>> => {
  const url = pathToFileURL(resolve(cwd, modulePath)).href
  try {
    return (await import(url)) as Record<string, unknown>
  } catch (error) {
    const code = (error as { code?: string }).code
    if (code === 'ERR_UNKNOWN_FILE_EXTENSION')
      throw new ConfigError(
        `cannot import ${modulePath}: this Node does not run TypeScript; run the command with NODE_OPTIONS='--import tsx' (tsx installed), or point it at the built .js`,
      )
    if (
      code === 'ERR_MODULE_NOT_FOUND' &&
      String((error as Error).message).includes(url.replace('file://', ''))
    )
      throw new ConfigError(`cannot find ${modulePath} (from ${cwd})`)
    throw new ConfigError(`cannot import ${modulePath}: ${(error as Error).message}`)
  }
}

const pickConfig = (module: Record<string, unknown>, command: PolicyCommand): unknown => {
  const names = Object.keys(module).sort()
  if (command.exportName !== undefined) {
    if (!names.includes(command.exportName))
      throw new ConfigError(
        `${command.modulePath} has no export ${JSON.stringify(command.exportName)}; it exports: ${names.join(', ') || 'nothing'}`,
      )
    return module[command.exportName]
  }
  if (module.default !== undefined) return module.default
  if (!names.includes('fetchData'))
    throw new ConfigError(
      `${command.modulePath} has no default export and no fetchData export; name the export with --export (it exports: ${names.join(', ') || 'nothing'})`,
    )
  return module
}

/** Imports the module and computes the deployment. */
export async function computeDeployment(command: PolicyCommand, cwd: string): Promise<ExtensionDeployment> {
  const config = pickConfig(await loadModule(command.modulePath, cwd), command)
  try {
    return extensionDeployment(config as never, command.options)
  } catch (error) {
    if (error instanceof TypeError) throw new ConfigError(error.message)
    throw error
  }
}

export const formatDeployment = (deployment: ExtensionDeployment, format: 'text' | 'json'): string => {
  if (format === 'json') return JSON.stringify(deployment, null, 2)
  const environment = Object.entries(deployment.environment)
  return [
    'Layer:',
    `  ${deployment.layerArn}`,
    '',
    "Environment variables (the layer's settings):",
    ...(environment.length === 0
      ? ["  none: the layer's defaults apply"]
      : environment.map(([name, value]) => `  ${name}=${value}`)),
    '',
    "IAM policy document (for the function's role):",
    JSON.stringify(deployment.policy, null, 2),
  ].join('\n')
}
