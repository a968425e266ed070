import { basename, relative, resolve, sep } from 'node:path'
import { fileURLToPath } from 'node:url'
import { stackFrames } from '@opskit/core'

/**
 * Where a WARN+ line was logged from. For a line logged by user code (also through an opskit
 * call, such as `request.securityEvent()` from a handler): the user's file, line and function.
 * For a line about opskit's own internals (a rate-limit hit, a store outage, a Redis reconnect),
 * where no user frame is on the stack: `component` names the package (`@opskit/security-log`) and
 * `file` is the path inside that package (`@opskit/security-log/dist/log-line.js`), never a path
 * into `node_modules` or the workspace.
 */
export interface CallerSource {
  file: string
  line: number
  function: string
  /** The opskit package that wrote the line, when no user code is on the stack. */
  component?: string
}

const OWN_DIR = fileURLToPath(new URL('.', import.meta.url))
// The directory holding every opskit package: `<repo>/packages/` in the workspace,
// `node_modules/@opskit/` in an npm install (this file is `<that>/logging/{src,dist}/`).
const OPSKIT_ROOT = resolve(OWN_DIR, '..', '..') + sep
// Installed by pnpm, each package sits in its own `.pnpm/<id>/node_modules/@opskit/<name>/`.
const INSTALLED_OPSKIT = /[\\/]node_modules[\\/]@opskit[\\/]([^\\/]+)[\\/](.+)$/
// The logger machinery in this package: never the source of a line.
const MACHINERY = new Set(['caller-source', 'line-format', 'create-logger', 'root-logger', 'tee-stream', 'destination', 'rolling-file'])
// Frames of the logging machinery of others: pino, Fastify and its plugin loader, Node internals.
const LIBRARY_FRAME = /[\\/]node_modules[\\/](?:\.pnpm[\\/][^\\/]+[\\/]node_modules[\\/])?(?:pino|pino-std-serializers|fastify|avvio|@fastify[\\/][^\\/]+|fastify-plugin)[\\/]/
const NODE_MODULES = /[\\/]node_modules[\\/]/
const STACK_DEPTH = 24

interface StackHolder {
  stack?: string
}

function isLibraryFrame(file: string): boolean {
  if (file.startsWith(OWN_DIR)) return MACHINERY.has(basename(file).replace(/\.[cm]?[jt]s$/, ''))
  return file.startsWith('node:') || LIBRARY_FRAME.test(file) || file === 'native' || file.startsWith('internal/')
}

/** `{ component, path }` when `file` is the code of an opskit package (its `src/` or `dist/`, not its tests). */
function opskitFrame(file: string): { component: string; path: string } | undefined {
  let name: string | undefined
  let rest: string | undefined
  if (file.startsWith(OPSKIT_ROOT)) {
    const inside = file.slice(OPSKIT_ROOT.length)
    const cut = inside.indexOf(sep)
    if (cut > 0) {
      name = inside.slice(0, cut)
      rest = inside.slice(cut + 1)
    }
  } else {
    const match = INSTALLED_OPSKIT.exec(file)
    if (match !== null) {
      name = match[1]
      rest = match[2]
    }
  }
  if (name === undefined || rest === undefined || !/^(?:src|dist)[\\/]/.test(rest)) return undefined
  const component = `@opskit/${name}`
  return { component, path: `${component}/${rest.split(sep).join('/')}` }
}

/** The caller in a V8 stack (exported for tests). */
export function parseStack(stack: string | undefined): CallerSource | undefined {
  if (stack === undefined) return undefined
  let ours: CallerSource | undefined
  for (const frame of stackFrames(stack)) {
    let file = frame.file
    if (isLibraryFrame(file)) continue
    const own = opskitFrame(file)
    if (own !== undefined) {
      // Keep looking for the user code that called us; remember the first of our frames.
      ours ??= { file: own.path, line: frame.line, function: frame.function, component: own.component }
      continue
    }
    // Past our own frames, a dependency (ioredis emitting an event, pg's pool) is not user code.
    if (ours !== undefined && NODE_MODULES.test(file)) continue
    const rel = relative(process.cwd(), file)
    if (rel !== '' && !rel.startsWith('..' + sep) && rel !== '..') file = rel
    return { file, line: frame.line, function: frame.function }
  }
  return ours
}

/** The first frame of an error's stack outside pino, Fastify, this package and Node: where it was thrown. */
export function errorSource(error: unknown): CallerSource | undefined {
  return error instanceof Error && typeof error.stack === 'string' ? parseStack(error.stack) : undefined
}

/**
 * The code that called `log.warn()`: the first stack frame outside pino, Fastify and the logger
 * itself that is user code; when only opskit's own frames are left, the first of them, naming its
 * package (`component`). `below` is the log method being run; frames from it upwards are skipped
 * cheaply. Only called for WARN and above.
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
