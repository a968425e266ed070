import { pino } from 'pino'
import pretty from 'pino-pretty'
import type { LogDestination, ResolvedLoggerOptions } from './options.js'
import { RollingFile } from './rolling-file.js'
import { TeeStream } from './tee-stream.js'

function prettyStream(destination: LogDestination | undefined): LogDestination {
  return pretty({
    destination: (destination ?? 1) as number,
    sync: destination === undefined,
    colorize: destination === undefined && process.stdout.isTTY === true,
    messageKey: 'message',
    timestampKey: 'timestamp',
    translateTime: 'SYS:HH:MM:ss.l',
    ignore: 'logger',
    messageFormat: '[{logger}] {message}',
    singleLine: false,
  }) as unknown as LogDestination
}

/** stdout (JSON or pretty) or the given `destination`, plus the rotating file when configured. */
export function buildDestination(options: ResolvedLoggerOptions): LogDestination {
  const outputs: LogDestination[] = []
  if (options.stdout) {
    if (options.format === 'pretty') outputs.push(prettyStream(options.destination))
    else outputs.push(options.destination ?? (pino.destination({ dest: 1, sync: false }) as unknown as LogDestination))
  }
  if (options.file !== undefined) outputs.push(new RollingFile(options.file))
  return outputs.length === 1 ? (outputs[0] as LogDestination) : new TeeStream(outputs)
}
