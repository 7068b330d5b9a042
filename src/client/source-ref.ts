/** What the extension is asked for: one GET to one endpoint. Knows nothing of `fetchData` keys. */
export type SourceRef = ParameterRef | SecretRef

export interface ParameterRef {
  service: 'parameter'
  name: string
  version?: number
  label?: string
  decrypt: boolean
}

export interface SecretRef {
  service: 'secret'
  name: string
  versionId?: string
  versionStage?: string
  /** The Secrets Manager Agent's cache bypass; the Lambda layer does not document it. */
  refreshNow?: boolean
}

/** The request path and query for a source. Every value is percent-encoded: the extension decodes the
 * query form-style, so a raw `+` would become a space and name another value. */
export const requestPath = (ref: SourceRef): string => {
  if (ref.service === 'secret') {
    let path = `/secretsmanager/get?secretId=${encodeURIComponent(ref.name)}`
    if (ref.versionId !== undefined) path += `&versionId=${encodeURIComponent(ref.versionId)}`
    if (ref.versionStage !== undefined) path += `&versionStage=${encodeURIComponent(ref.versionStage)}`
    if (ref.refreshNow) path += '&refreshNow=true'
    return path
  }
  let path = `/systemsmanager/parameters/get?name=${encodeURIComponent(ref.name)}`
  if (ref.version !== undefined) path += `&version=${ref.version}`
  if (ref.label !== undefined) path += `&label=${encodeURIComponent(ref.label)}`
  if (ref.decrypt) path += '&withDecryption=true'
  return path
}
