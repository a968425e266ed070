declare module 'pino-roll' {
  import type { EventEmitter } from 'node:events'

  export interface PinoRollOptions {
    file: string | (() => string)
    size?: string | number
    frequency?: string | number
    extension?: string
    symlink?: boolean
    limit?: { count?: number; removeOtherLogFiles?: boolean }
    dateFormat?: string
    mkdir?: boolean
    sync?: boolean
    minLength?: number
    maxWrite?: number
    [key: string]: unknown
  }

  export interface RollStream extends EventEmitter {
    file: string
    fd: number
    write(data: string): boolean
    flush(cb?: (err?: Error | null) => void): void
    flushSync(): void
    reopen(file?: string): void
    end(): void
  }

  function build(options: PinoRollOptions): Promise<RollStream>
  export default build
}
