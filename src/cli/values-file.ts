import { type FSWatcher, watch } from 'node:fs'
import { readFile } from 'node:fs/promises'
import { basename, dirname, resolve } from 'node:path'
import { type EmulatorValues, validateValues } from '../emulator/values.js'

export interface LoadedValues {
  values: EmulatorValues
  /** The file's text, to tell a real change from an editor touching the file. */
  text: string
  /** Counts only, e.g. `2 parameters, 1 secret`: a summary must never show a value. */
  summary: string
}

/** A values file that cannot be used; the message holds no content of the file. */
export class ValuesFileError extends Error {
  override name = 'ValuesFileError'
}

/** @throws ValuesFileError when the file cannot be read, is not JSON or breaks the values format */
export async function loadValuesFile(path: string): Promise<LoadedValues> {
  let text: string
  try {
    text = await readFile(path, 'utf8')
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code
    throw new ValuesFileError(`${path}: cannot be read (${code ?? 'error'})`)
  }
  return { ...parseValues(path, text), text }
}

function parseValues(path: string, text: string): Omit<LoadedValues, 'text'> {
  let input: unknown
  try {
    input = JSON.parse(text.replace(/^\uFEFF/, ''))
  } catch (error) {
    // JSON.parse quotes the text around the mistake, which may be a secret: only say where it is.
    throw new ValuesFileError(`${path}: not valid JSON${where(text, (error as Error).message)}`)
  }
  let values: EmulatorValues
  try {
    // Its messages name paths and expectations, never a value.
    values = validateValues(input)
  } catch (error) {
    throw new ValuesFileError(`${path}: ${(error as Error).message}`)
  }
  return { values, summary: summarize(values) }
}

function where(text: string, message: string): string {
  const position = /at position (\d+)/.exec(message)?.[1]
  if (position === undefined) return /end of JSON input/.test(message) ? ' (it ends too early)' : ''
  const before = text
    .replace(/^\uFEFF/, '')
    .slice(0, Number(position))
    .split('\n')
  return ` (line ${before.length}, column ${before.at(-1)!.length + 1})`
}

function summarize(values: EmulatorValues): string {
  const count = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`
  const parts = [
    count(Object.keys(values.parameters ?? {}).length, 'parameter'),
    count(Object.keys(values.secrets ?? {}).length, 'secret'),
  ]
  if (values.denied?.length) parts.push(`${values.denied.length} denied`)
  return parts.join(', ')
}

// Editors write in bursts (truncate then write, or a temporary file renamed over the original); one
// reload after the burst settles is what a developer means.
const settleMs = 50

/**
 * Calls `onChange` after the file may have changed. The folder is watched, not the file: an editor's
 * atomic save renames a new file over the old one, which a watch on the old file would never see.
 */
export function watchValuesFile(
  path: string,
  onChange: () => void,
  onError: (error: Error) => void,
): { close(): void } {
  const name = basename(path)
  let timer: NodeJS.Timeout | undefined
  const watcher: FSWatcher = watch(dirname(resolve(path)), { persistent: true }, (_event, changed) => {
    // Some platforms do not name the file: then any change in the folder may be ours.
    if (changed !== null && changed.toString() !== name) return
    clearTimeout(timer)
    timer = setTimeout(onChange, settleMs)
  })
  watcher.on('error', onError)
  return {
    close() {
      clearTimeout(timer)
      watcher.close()
    },
  }
}
