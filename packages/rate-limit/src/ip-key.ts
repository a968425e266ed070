import { createRequire } from 'node:module'

type NormalizeIP = (ip: string, ipv6Subnet?: number) => string

const require = createRequire(import.meta.url)
// @fastify/rate-limit's normalization: IPv4-mapped IPv6 → IPv4, other IPv6 → its /ipv6Subnet network.
const { normalizeIP } = require('@fastify/rate-limit') as { normalizeIP: NormalizeIP }

/** The anonymous rate-limit key of a client address. IPv4 (the common case) is used as it is. */
export function ipKey(ip: string, ipv6Subnet: number): string {
  return ip.indexOf(':') === -1 ? ip : normalizeIP(ip, ipv6Subnet)
}
