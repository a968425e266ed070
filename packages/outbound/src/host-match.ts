/** Whether a call to `hostname` on `port` is in a host list. */
export type HostMatcher = (hostname: string, port: string) => boolean

/**
 * A host list as the options give it: a string is a hostname (any port) or `hostname:port` (that
 * port only), compared case-insensitively; a RegExp is tested on the hostname, then on `hostname:port`.
 */
export function compileHostList(list: readonly (string | RegExp)[]): HostMatcher {
  const names = new Set<string>()
  const patterns: RegExp[] = []
  for (const entry of list) {
    if (entry instanceof RegExp) patterns.push(new RegExp(entry.source, entry.flags.replace(/[gy]/g, '')))
    else names.add(entry.toLowerCase())
  }
  return (hostname, port) => {
    if (names.has(hostname) || names.has(`${hostname}:${port}`)) return true
    for (const pattern of patterns) if (pattern.test(hostname) || pattern.test(`${hostname}:${port}`)) return true
    return false
  }
}
