import type { Logger } from 'pino'
import type { LogDestination } from './options.js'
import { RollingFile } from './rolling-file.js'
import { channelNameSym, channelsSym, nameJsonSym } from './symbols.js'
import { TeeStream } from './tee-stream.js'

/** The destinations of one logger tree: each logger's stream, and the rotating files among them. */
export interface TreeOutputs {
  streams: LogDestination[]
  files: RollingFile[]
}

/** stdout (when on) and a rotating file (when given), as one destination. */
export function combine(stdout: LogDestination | undefined, file: RollingFile | undefined, outputs: TreeOutputs): LogDestination {
  if (file !== undefined) outputs.files.push(file)
  const parts = [stdout, file].filter((part): part is LogDestination => part !== undefined)
  const stream = parts.length === 1 ? (parts[0] as LogDestination) : new TeeStream(parts)
  outputs.streams.push(stream)
  return stream
}

type Marked = Record<symbol, unknown>

/** The logger of channel `name` in the tree `logger` belongs to, unless `logger` already writes to that channel. */
export function channelFor(logger: object, name: string): Logger | undefined {
  const channels = (logger as Marked)[channelsSym] as Map<string, Logger> | undefined
  if (channels === undefined || (logger as Marked)[channelNameSym] === name) return undefined
  return channels.get(name)
}

/** Where a `getLogger(name)` logger made from an older root goes when `root` becomes the root: its channel, else `root`. */
export function parentFor(root: Logger, child: Logger): Logger {
  const nameJson = (child as unknown as Marked)[nameJsonSym]
  if (typeof nameJson !== 'string') return root
  return channelFor(root, JSON.parse(nameJson) as string) ?? root
}
