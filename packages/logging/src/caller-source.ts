import { relative, sep } from 'node:path'
import { fileURLToPath } from 'node:url'

/** Where a WARN+ line was logged from. */
export interface CallerSource {
  file: string
  line: number
  function: string
}

const OWN_DIR = fileURLToPath(new URL('.', import.meta.url))
// Frames of the logging machinery itself: pino, Fastify and its plugin loader, this package, Node internals.
const LIBRARY_FRAME = /[\\/]node_modules[\\/](?:\.pnpm[\\/][^\\/]+[\\/]node_modules[\\/])?(?:pino|pino-std-serializers|fastify|avvio|@fastify[\\/][^\\/]+|fastify-plugin)[\\/]/
const FRAME = /^\s*at (?:(.+?) \()?(.+?):(\d+):\d+\)?$/
const STACK_DEPTH = 24

interface StackHolder {
  stack?: string
}

function isLibraryFrame(file: string): boolean {
  return file.startsWith('node:') || file.startsWith(OWN_DIR) || LIBRARY_FRAME.test(file) || file === 'native' || file.startsWith('internal/')
}

function parseStack(stack: string | undefined): CallerSource | undefined {
  if (stack === undefined) return undefined
  const lines = stack.split('\n')
  for (let i = 1; i < lines.length; i++) {
    const match = FRAME.exec(lines[i] as string)
    if (match === null) continue
    let file = match[2] as string
    if (file.startsWith('file://')) {
      try {
        file = fileURLToPath(file)
      } catch {
        continue
      }
    }
    if (isLibraryFrame(file)) continue
    const rel = relative(process.cwd(), file)
    if (rel !== '' && !rel.startsWith('..' + sep) && rel !== '..') file = rel
    const fn = (match[1] ?? '<anonymous>').replace(/^async /, '')
    return { file, line: Number(match[3]), function: fn }
  }
  return undefined
}

/** The first frame of an error's stack outside pino, Fastify, this package and Node: where it was thrown. */
export function errorSource(error: unknown): CallerSource | undefined {
  return error instanceof Error && typeof error.stack === 'string' ? parseStack(error.stack) : undefined
}

/**
 * The first stack frame outside pino, Fastify and this package: the code that called
 * `log.warn()`. `below` is the log method being run; frames from it upwards are skipped cheaply.
 * Only called for WARN and above.
 */
export function callerSource(below: ((...args: never[]) => unknown) | undefined): CallerSource | undefined {
  const holder: StackHolder = {}
  const limit = Error.stackTraceLimit
  Error.stackTraceLimit = STACK_DEPTH
  try {
    if (typeof below === 'function') {
      Error.captureStackTrace(holder, below)
      const found = parseStack(holder.stack)
      if (found !== undefined) return found
    }
    Error.captureStackTrace(holder, callerSource)
    return parseStack(holder.stack)
  } finally {
    Error.stackTraceLimit = limit
  }
}
