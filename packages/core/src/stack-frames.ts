import { fileURLToPath } from 'node:url'

/** One frame of a V8 stack trace. */
export interface StackFrame {
  /** The function's name (`<anonymous>` when it has none, without a leading `async `). */
  function: string
  /** A path (a `file://` URL is turned into one), `node:…`, `internal/…` or `native`. */
  file: string
  line: number
}

const FRAME = /^\s*at (?:(.+?) \()?(.+?):(\d+):\d+\)?$/

/**
 * The frames of a V8 stack text, innermost first (the header line, `Error: message`, is skipped, as
 * is any line that is not a frame). The one parser `@opskit/logging` (a line's `source`) and
 * `@opskit/outbound` (a call's site) share; each applies its own rule of which frame is the caller.
 */
export function* stackFrames(stack: string): Generator<StackFrame, void, undefined> {
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
    yield { function: (match[1] ?? '<anonymous>').replace(/^async /, ''), file, line: Number(match[3]) }
  }
}
