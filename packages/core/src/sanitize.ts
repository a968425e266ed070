// Strips control characters (CR, LF, NUL, ESC...) and bounds the length, so a hostile header
// never reaches a log line or a table raw.
// eslint-disable-next-line no-control-regex
const CONTROL_CHARS = /[\u0000-\u001f\u007f-\u009f]/g
// eslint-disable-next-line no-control-regex
const HAS_CONTROL_CHAR = /[\u0000-\u001f\u007f-\u009f]/

export const DEFAULT_MAX_HEADER_LENGTH = 512

/** A header value safe to log or store: control characters removed, at most `maxLength` characters. */
export function sanitizeHeader(value: string | string[] | undefined, maxLength = DEFAULT_MAX_HEADER_LENGTH): string | undefined {
  if (value === undefined) return undefined
  const text = Array.isArray(value) ? value.join(', ') : value
  const clean = HAS_CONTROL_CHAR.test(text) ? text.replace(CONTROL_CHARS, '') : text
  return clean.length > maxLength ? clean.slice(0, maxLength) : clean
}
