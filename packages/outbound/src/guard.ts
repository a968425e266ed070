/**
 * A channel subscriber that never throws: an exception in a diagnostics-channel subscriber becomes
 * an uncaught exception of the process (Node rethrows it on the next tick), so an odd request
 * shape must cost at most its line, never the caller's call or the process.
 */
export function guarded(fn: (message: unknown) => void): (message: unknown) => void {
  return (message) => {
    try {
      fn(message)
    } catch {
      // The call goes on unobserved.
    }
  }
}
