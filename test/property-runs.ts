// How many generated cases each property tries in `npm test`; docs/reliability.md reports these numbers
// and a test keeps them equal.
export const propertyRuns = {
  'names with reserved URL characters round-trip through the client': 150,
  'any fetchData: creation fails with nothing but a TypeError': 500,
  'names with a lone surrogate are rejected at creation': 100,
  'names of any well-formed Unicode round-trip through a middy() chain': 100,
  'random fetchData: accepted and fetched correctly, or a TypeError at creation': 300,
  'random 200 bodies of a secret: the value or MALFORMED_RESPONSE': 300,
  'random 200 bodies of a parameter: the value, its sensitivity, or MALFORMED_RESPONSE': 300,
  'random statuses and bodies: the documented code': 100,
  'secret values with a marker never leave through errors, context or logs': 200,
  'tokens never appear in errors': 100,
  'any accepted host is a loopback literal': 500,
  'CR/LF in names and selectors never become headers': 30,
} as const
