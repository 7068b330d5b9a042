// The layer is written in Go and marshals with encoding/json, which escapes these characters even
// inside strings; reproducing it proves that clients decode JSON rather than match raw text.
const goUnsafe = /[<>&\u2028\u2029]/g

// SourceResult of a secret read through Parameter Store is produced by a Java service with Gson,
// whose default HTML-safe mode also escapes `=` and `'`.
const gsonUnsafe = /[<>&='\u2028\u2029]/g

const unicodeEscape = (char: string): string => `\\u${char.charCodeAt(0).toString(16).padStart(4, '0')}`

export function goJson(value: unknown): string {
  return JSON.stringify(value).replace(goUnsafe, unicodeEscape)
}

export function gsonJson(value: unknown): string {
  return JSON.stringify(value).replace(gsonUnsafe, unicodeEscape)
}

/** RFC 3339 with trailing zeros of the fraction dropped, as Go's `time.Time` marshals. */
export function goTimestamp(date: Date): string {
  return date.toISOString().replace(/\.?0+Z$/, 'Z')
}

const months = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec']

/** Gson's default date format in the US locale, in UTC: `Nov 16, 2022, 8:22:40 AM`. */
export function gsonDate(date: Date): string {
  const hours = date.getUTCHours()
  const clock = [hours % 12 || 12, date.getUTCMinutes(), date.getUTCSeconds()]
    .map((part, index) => (index === 0 ? String(part) : String(part).padStart(2, '0')))
    .join(':')
  const month = months[date.getUTCMonth()]
  return `${month} ${date.getUTCDate()}, ${date.getUTCFullYear()}, ${clock} ${hours < 12 ? 'AM' : 'PM'}`
}
