/** A mistake on the command line or in the layer's variables: the message names it and never repeats a token. */
export class UsageError extends Error {
  override name = 'UsageError'
}
