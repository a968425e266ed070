import type { LogDestination } from './options.js'
import { RollingFile } from './rolling-file.js'

/** Writes every line to each destination (stdout and a log file). */
export class TeeStream implements LogDestination {
  constructor(private readonly destinations: readonly LogDestination[]) {}

  write(line: string): boolean {
    for (const destination of this.destinations) destination.write(line)
    return true
  }

  flush(cb?: (err?: Error | null) => void): void {
    let pending = this.destinations.length
    let failure: Error | null = null
    const done = (err?: Error | null): void => {
      if (err) failure ??= err
      if (--pending === 0) cb?.(failure)
    }
    for (const destination of this.destinations) {
      if (typeof destination.flush === 'function') destination.flush(done)
      else done()
    }
  }

  flushSync(): void {
    for (const destination of this.destinations) {
      try {
        destination.flushSync?.()
      } catch {
        // a destination that cannot flush synchronously (not ready yet) keeps its lines
      }
    }
  }

  /** Closes the rotating files; stdout and caller-supplied streams stay open. */
  endFiles(): void {
    for (const destination of this.destinations) if (destination instanceof RollingFile) destination.end()
  }
}
