import { CALL_CONTEXT, ExternalCallFields, getRequestContext, type RequestContext } from '@opskit/core'
import { pino } from 'pino'
import { callerSource } from './caller-source.js'
import { capPath, maskString, MAX_PATH_LENGTH, numberJson, type Redactor } from './redactor.js'
import { bindingKeysSym, bindingsSym, boundRequestIdSym, contextSym, formatSym, nameJsonSym } from './symbols.js'

const { chindingsSym, serializersSym } = pino.symbols
const hasOwn = Object.prototype.hasOwnProperty
const WARN = 40

/** Keys every line owns; a logged field with one of these names is dropped (never a duplicate key). */
const RESERVED: Record<string, true | undefined> = Object.assign(Object.create(null) as Record<string, true>, {
  timestamp: true,
  level: true,
  logger: true,
  message: true,
})

type Serializer = (value: unknown) => unknown

/** The opskit properties (and the pino internals the formatter reads) of a logger instance. */
export interface LoggerInternals {
  [formatSym]: LineFormat
  [nameJsonSym]: string
  [boundRequestIdSym]?: string
  [contextSym]?: RequestContext
  [bindingKeysSym]?: Record<string, true>
  [bindingsSym]?: Record<string, unknown>
  levels: { labels: Record<number, string> }
  [key: string]: unknown
  [key: symbol]: unknown
}

/** JSON string literal; a fast scan for the common short string without quotes, backslashes or control characters. */
export function quote(str: string): string {
  const l = str.length
  if (l > 100) return JSON.stringify(str)
  for (let i = 0; i < l; i++) {
    const c = str.charCodeAt(i)
    if (c < 32 || c === 34 || c === 92 || (c >= 0xd800 && c <= 0xdfff)) return JSON.stringify(str)
  }
  return '"' + str + '"'
}

function stringify(value: unknown): string {
  try {
    return JSON.stringify(value) ?? 'null'
  } catch {
    return '"[unserializable]"'
  }
}

/**
 * The fields of the plugin's `request completed` line, in their order on the line. A class (one
 * shape) so that an opskit logger writes them with fixed keys instead of the per-key path; any
 * other logger sees a plain object with these own properties.
 */
export class RequestCompletedFields {
  constructor(
    readonly method: string,
    readonly path: string,
    readonly route: string | undefined,
    readonly status_code: number,
    readonly duration_ms: number,
    // Fastify's `request.ip` is undefined once the client's socket is gone (or with trustProxy and
    // no address): the field is then left out, as on the generic path.
    readonly ip: string | undefined,
    readonly user_agent: string | undefined,
  ) {}
}

const REQUEST_FIELD_KEYS = ['method', 'path', 'route', 'status_code', 'duration_ms', 'ip', 'user_agent'] as const
const CALL_FIELD_KEYS = ['service', 'method', 'url', 'status_code', 'duration_ms', 'request_id', 'user_id'] as const

// Short strings seen again and again (messages, route templates, methods, user agents: most are
// 100-200 characters) are masked and quoted once: a bounded cache, emptied when full.
const JSON_CACHE_MAX_LENGTH = 256
const JSON_CACHE_SIZE = 2000

// `.001` … `.999` with trailing zeros dropped (`.5`, `.25`), and '' for a whole number: the
// fraction part of a millisecond duration rounded to the microsecond.
const FRACTIONS = Array.from({ length: 1000 }, (_, i) => (i === 0 ? '' : '.' + String(i).padStart(3, '0').replace(/0+$/, '')))

/**
 * A duration in milliseconds (already rounded to 3 decimals) as JSON, the same text as `String(ms)`,
 * from two cached strings: a whole number of milliseconds (a small integer, which V8 keeps its
 * string of) and the fraction; `String()` of a fractional number builds a new string through the
 * runtime on every line. Anything unusual (negative, huge, not on the microsecond) takes `String()`.
 */
export function durationJson(ms: number): string {
  if (!(ms >= 0 && ms < 1e9)) return Number.isFinite(ms) ? String(ms) : 'null'
  const us = Math.round(ms * 1000)
  if (us / 1000 !== ms) return String(ms)
  const whole = Math.floor(us / 1000)
  return whole + (FRACTIONS[us - whole * 1000] as string)
}

/** Per-root state of the line format: level labels, a millisecond-cached clock, the redactor. */
export class LineFormat {
  readonly redactor: Redactor
  private readonly levelParts: Record<number, string> = Object.create(null) as Record<number, string>
  private lastMs = -1
  private lastIso = ''
  // `{"timestamp":"<now>` of the current millisecond, and what follows it for each level and logger
  // name (`","level":"INFO","logger":"outbound"`) and message (`,"message":"external call"`): a line
  // starts with two ready strings instead of being put together from six.
  private lastHead = ''
  private readonly levelNames: Record<number, Map<string, string> | undefined> = Object.create(null) as Record<number, Map<string, string> | undefined>
  private readonly messageParts = new Map<string, string>()
  // `,"status_code":200,"duration_ms":` of an external call line, by status.
  private readonly statusParts = new Map<number, string>()
  private readonly jsonCache = new Map<string, string>()
  // `,"service":…,"method":…,"url":…` of `external call` lines, by URL: @opskit/outbound hands the
  // same URL string for the same call again, so this is one lookup by identity per line.
  private readonly callHeads = new Map<string, { service: string; method: string; json: string }>()
  // Per fixed line's key list: whether its fields can be written with fixed keys, for the last
  // serializers object seen.
  private readonly plainFor = new Map<readonly string[], { serializers: unknown; plain: boolean }>()

  constructor(redactor: Redactor) {
    this.redactor = redactor
  }

  /** `{"timestamp":"<ISO-8601 UTC time>` (no closing quote), computed once per millisecond. */
  head(): string {
    const now = Date.now()
    if (now !== this.lastMs) {
      this.lastMs = now
      this.lastIso = new Date(now).toISOString()
      this.lastHead = '{"timestamp":"' + this.lastIso
    }
    return this.lastHead
  }

  /** `","level":"INFO","logger":"<name>"` for a level number and a logger's JSON name. */
  levelAndName(num: number, labels: Record<number, string>, nameJson: string): string {
    let byName = this.levelNames[num]
    if (byName === undefined) this.levelNames[num] = byName = new Map()
    let part = byName.get(nameJson)
    if (part === undefined) {
      part = this.levelPart(num, labels) + nameJson
      if (byName.size >= JSON_CACHE_SIZE) byName.clear()
      byName.set(nameJson, part)
    }
    return part
  }

  /** `,"message":<masked JSON>` of a message, cached for short messages. */
  messagePart(message: string): string {
    if (message.length > JSON_CACHE_MAX_LENGTH) return ',"message":' + quote(maskString(message))
    let part = this.messageParts.get(message)
    if (part === undefined) {
      part = ',"message":' + this.maskedJson(message)
      if (this.messageParts.size >= JSON_CACHE_SIZE) this.messageParts.clear()
      this.messageParts.set(message, part)
    }
    return part
  }

  /** `,"status_code":<status>,"duration_ms":` of an external call line. */
  private statusPart(status: unknown): string {
    if (typeof status !== 'number' || !Number.isFinite(status)) return ',"status_code":null,"duration_ms":'
    let part = this.statusParts.get(status)
    if (part === undefined) {
      part = ',"status_code":' + status + ',"duration_ms":'
      if (this.statusParts.size >= JSON_CACHE_SIZE) this.statusParts.clear()
      this.statusParts.set(status, part)
    }
    return part
  }

  /** `quote(maskString(value))`, cached for short strings. */
  maskedJson(value: string): string {
    if (value.length > JSON_CACHE_MAX_LENGTH) return quote(maskString(value))
    let json = this.jsonCache.get(value)
    if (json === undefined) {
      json = quote(maskString(value))
      if (this.jsonCache.size >= JSON_CACHE_SIZE) this.jsonCache.clear()
      this.jsonCache.set(value, json)
    }
    return json
  }

  /**
   * True when no redaction rule or serializer applies to any of `keys` (the fields of a fixed line:
   * `request completed`, `external call`), so they are written as they are.
   */
  plainFields(keys: readonly string[], serializers: Record<string, Serializer | undefined> | undefined): boolean {
    let seen = this.plainFor.get(keys)
    if (seen === undefined || seen.serializers !== serializers) {
      const plain = keys.every((key) => {
        const info = this.redactor.key(key)
        return !info.secret && info.paths === undefined && serializers?.[key] === undefined
      })
      seen = { serializers, plain }
      this.plainFor.set(keys, seen)
    }
    return seen.plain
  }

  /** `,"service":…,"method":…,"url":…` of an `external call` line (fixed keys, same masking as any field). */
  callFields(f: ExternalCallFields): string {
    const status = f.status_code
    const duration = f.duration_ms
    const requestId = f.request_id
    const userId = f.user_id
    return this.callHead(f.service, f.method, f.url) +
      this.statusPart(status) + durationJson(duration) +
      // The id of the call's own request is core's (validated), written as every line of that request writes it.
      (requestId === undefined || requestId === null ? '' : ',"request_id":' + (requestId === f[CALL_CONTEXT]?.requestId ? quote(requestId) : quote(maskString(String(requestId))))) +
      (userId === undefined || userId === null ? '' : ',"user_id":' + quote(maskString(String(userId))))
  }

  /** `,"service":…,"method":…,"url":…` of an `external call` line, cached by URL for short URLs. */
  private callHead(service: string, method: string, url: string): string {
    const cached = url.length > JSON_CACHE_MAX_LENGTH ? undefined : this.callHeads.get(url)
    if (cached !== undefined && cached.service === service && cached.method === method) return cached.json
    const json = ',"service":' + this.maskedJson(service) +
      ',"method":' + this.maskedJson(method) +
      ',"url":' + (url.length <= MAX_PATH_LENGTH ? this.maskedJson(url) : quote(capPath(maskString(url))))
    if (url.length <= JSON_CACHE_MAX_LENGTH) {
      if (this.callHeads.size >= JSON_CACHE_SIZE) this.callHeads.clear()
      this.callHeads.set(url, { service, method, json })
    }
    return json
  }

  /** `,"method":…,"path":…` of a `request completed` line (fixed keys, same masking as any field). */
  requestFields(f: RequestCompletedFields): string {
    const route = f.route
    const duration = f.duration_ms
    const ip = f.ip
    const userAgent = f.user_agent
    return ',"method":' + this.maskedJson(f.method) +
      ',"path":' + quote(capPath(maskString(f.path))) +
      (route === undefined ? '' : route === null ? ',"route":null' : ',"route":' + this.maskedJson(route)) +
      ',"status_code":' + f.status_code +
      ',"duration_ms":' + durationJson(duration) +
      (ip === undefined ? '' : ip === null ? ',"ip":null' : ',"ip":' + quote(maskString(ip))) +
      (userAgent === undefined ? '' : userAgent === null ? ',"user_agent":null' : ',"user_agent":' + this.maskedJson(userAgent))
  }

  /** `","level":"INFO","logger":` for a level number. */
  levelPart(num: number, labels: Record<number, string>): string {
    let part = this.levelParts[num]
    if (part === undefined) {
      part = '","level":' + quote((labels[num] ?? String(num)).toUpperCase()) + ',"logger":'
      this.levelParts[num] = part
    }
    return part
  }
}

/**
 * `,"key":value` for each field: pino serializers applied, secrets replaced, e-mails and card
 * numbers masked, nested objects copied with the same rules. `skip` names keys already written.
 */
export function serializeFields(
  fields: Record<string, unknown>,
  redactor: Redactor,
  serializers: Record<string, Serializer | undefined> | undefined,
): string {
  let out = ''
  for (const key in fields) {
    if (!hasOwn.call(fields, key) || RESERVED[key] === true) continue
    let value = fields[key]
    if (value === undefined) continue
    const serializer = serializers?.[key]
    if (serializer !== undefined) value = serializer(value)
    const info = redactor.key(key)
    let json: string
    if (info.secret) {
      json = '"[REDACTED]"'
    } else {
      switch (typeof value) {
        case 'string':
          json = quote(info.maxLength !== undefined && value.length > info.maxLength ? maskString(value).slice(0, info.maxLength) : maskString(value))
          break
        case 'number':
          json = numberJson(value)
          break
        case 'boolean':
          json = value ? 'true' : 'false'
          break
        case 'bigint':
          json = quote(String(redactor.value(value)))
          break
        case 'object':
          json = value === null ? 'null' : stringify(redactor.value(value, info.paths))
          break
        default:
          continue
      }
    }
    out += ',' + info.json + ':' + json
  }
  return out
}

/** `,"job":…,"job_id":…` (and `parent_request_id`, `parent_job_id`) of a line written inside `runJob()`. */
function jobFields(ctx: RequestContext, obj: Record<string, unknown>, bound: Record<string, true> | undefined): string {
  let out = ''
  if (obj.job === undefined && bound?.job !== true) out += ',"job":' + quote(ctx.job as string)
  if (ctx.jobId !== undefined && obj.job_id === undefined && bound?.job_id !== true) out += ',"job_id":' + quote(ctx.jobId)
  if (ctx.parentRequestId !== undefined && obj.parent_request_id === undefined && bound?.parent_request_id !== true) {
    out += ',"parent_request_id":' + quote(ctx.parentRequestId)
  }
  if (ctx.parentJobId !== undefined && obj.parent_job_id === undefined && bound?.parent_job_id !== true) {
    out += ',"parent_job_id":' + quote(ctx.parentJobId)
  }
  return out
}

/** `,"trace_id":…,"span_id":…` of a line inside a traced request (ids core validated: lowercase hex). */
function traceFields(ctx: RequestContext, obj: Record<string, unknown>, bound: Record<string, true> | undefined): string {
  let out = ''
  if (obj.trace_id === undefined && bound?.trace_id !== true) out += ',"trace_id":"' + (ctx.traceId as string) + '"'
  if (ctx.spanId !== undefined && obj.span_id === undefined && bound?.span_id !== true) out += ',"span_id":"' + ctx.spanId + '"'
  return out
}

function collides(obj: Record<string, unknown>, bound: Record<string, true>): boolean {
  for (const key in obj) if (bound[key] === true && obj[key] !== undefined) return true
  return false
}

/**
 * Replaces pino's `asJson` on opskit loggers: one JSON object per line with `timestamp`, `level`
 * (upper-case label), `logger`, `message`, the request context (`request_id`, `user_id`,
 * `tenant_id`), the bindings, the fields, and `source` for WARN and above. Never a duplicate key.
 */
export function formatLine(this: LoggerInternals, obj: Record<string, unknown>, msg: unknown, num: number): string {
  const format = this[formatSym]
  const redactor = format.redactor
  let line = format.head() + format.levelAndName(num, this.levels.labels, this[nameJsonSym])

  let message = msg
  if (message === undefined || message === null) message = obj.message
  line += typeof message === 'string' ? format.messagePart(message) : ',"message":' + (message === undefined || message === null ? '""' : quote(maskString(String(message))))

  const bound = this[bindingKeysSym]
  // An outbound call's line carries the context of the request that made the call.
  const ctx = this[contextSym] ?? (obj instanceof ExternalCallFields ? (obj[CALL_CONTEXT] ?? undefined) : getRequestContext())
  const requestId = ctx !== undefined ? ctx.requestId : this[boundRequestIdSym]
  if (requestId !== undefined && obj.request_id === undefined && bound?.request_id !== true) {
    line += ',"request_id":' + quote(requestId)
  }
  if (ctx?.traceId !== undefined) line += traceFields(ctx, obj, bound)
  if (ctx?.job !== undefined) line += jobFields(ctx, obj, bound)
  const actor = ctx?.actor
  if (actor !== null && actor !== undefined) {
    if (obj.user_id === undefined && bound?.user_id !== true) line += ',"user_id":' + quote(maskString(String(actor.id)))
    if (actor.tenantId !== undefined && obj.tenant_id === undefined && bound?.tenant_id !== true) {
      line += ',"tenant_id":' + quote(maskString(String(actor.tenantId)))
    }
  }

  const serializers = this[serializersSym] as Record<string, Serializer | undefined> | undefined
  if (obj instanceof RequestCompletedFields && bound === undefined && format.plainFields(REQUEST_FIELD_KEYS, serializers)) {
    line += (this[chindingsSym] as string) + format.requestFields(obj)
  } else if (obj instanceof ExternalCallFields && bound === undefined && format.plainFields(CALL_FIELD_KEYS, serializers)) {
    line += (this[chindingsSym] as string) + format.callFields(obj)
  } else if (bound !== undefined && collides(obj, bound)) {
    // A field named like a binding: the call site wins, the binding is left out.
    line += serializeFields(Object.assign({}, this[bindingsSym], obj), redactor, serializers)
  } else {
    line += (this[chindingsSym] as string) + serializeFields(obj, redactor, serializers)
  }

  if (num >= WARN && obj.source === undefined) {
    const source = callerSource(this[this.levels.labels[num] as string] as ((...args: never[]) => unknown) | undefined)
    if (source !== undefined) line += ',"source":' + stringify(source)
  }
  return line + '}\n'
}
