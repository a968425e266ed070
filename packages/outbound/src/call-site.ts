import { relative, sep } from 'node:path'
import { fileURLToPath } from 'node:url'
import { stackFrames, type StackFrame } from '@opskit/core'

/** Where a call was made, as the `source` of its WARN line (the shape `@opskit/logging` gives `source`). */
export interface CallSource {
  file: string
  line: number
  function: string
}

/** A stack captured when a call starts; read (formatted) only if its line is a WARN. */
export interface CallSite {
  stack?: string
}

// The user frame sits 20–30 frames below the channel subscriber (fetch → undici's dispatch chain →
// diagnostics_channel → this package); 40 leaves room for a client library in between.
const STACK_DEPTH = 40
const OWN_DIR = fileURLToPath(new URL('.', import.meta.url))
const NODE_MODULES = /[\\/]node_modules[\\/]/
const UNDICI = /[\\/]node_modules[\\/](?:\.pnpm[\\/][^\\/]+[\\/]node_modules[\\/])?undici[\\/]/

/**
 * The stack of the code making a call, captured in the client's `create` channel (synchronous
 * with `fetch()`, `undici.request()` and `http.request()`). V8 formats it only when `.stack` is
 * read, so a call whose line is INFO pays for the capture alone.
 */
export function captureCallSite(): CallSite {
  const site: CallSite = {}
  const limit = Error.stackTraceLimit
  Error.stackTraceLimit = STACK_DEPTH
  Error.captureStackTrace(site, captureCallSite)
  Error.stackTraceLimit = limit
  return site
}

const frameOf = (frame: StackFrame, file: string): CallSource => ({ file, line: frame.line, function: frame.function })

/**
 * The code that made the call: the first frame outside Node, this package and `node_modules`
 * (path relative to the working directory); when there is none (a library made the call from its
 * own callback), the first library frame that is not undici, as `<package>/<path>`; else undefined.
 */
export function sourceOf(site: CallSite | undefined): CallSource | undefined {
  const stack = site?.stack
  if (stack === undefined) return undefined
  let library: CallSource | undefined
  for (const frame of stackFrames(stack)) {
    const file = frame.file
    if (file.startsWith('node:') || file.startsWith('internal/') || file === 'native' || file.startsWith(OWN_DIR)) continue
    if (NODE_MODULES.test(file)) {
      if (library === undefined && !UNDICI.test(file)) library = frameOf(frame, file.slice(file.lastIndexOf(`node_modules${sep}`) + 13).split(sep).join('/'))
      continue
    }
    const rel = relative(process.cwd(), file)
    return frameOf(frame, rel !== '' && !rel.startsWith('..') ? rel : file)
  }
  return library
}
