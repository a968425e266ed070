import { flushLogger } from '@opskit/logging'

/**
 * Writes `batches` × `perBatch` INFO lines through `log` (a logger or a child of it) with a ~100
 * byte pad, flushing `logger` after each batch and yielding a moment, so pino-roll rotates by size
 * between batches as it would under a steady trickle. `fields(batch, i)` adds fields to each line.
 */
type FlushableLogger = Parameters<typeof flushLogger>[0]

export async function writeInBatches(
  logger: FlushableLogger & { info(obj: object, msg: string): void },
  { batches, perBatch, log = logger, msg = 'line', fields = (batch, i) => ({ batch, i }) }: {
    batches: number
    perBatch: number
    log?: { info(obj: object, msg: string): void }
    msg?: string
    fields?: (batch: number, i: number) => Record<string, unknown>
  },
): Promise<void> {
  for (let batch = 0; batch < batches; batch++) {
    for (let i = 0; i < perBatch; i++) log.info({ ...fields(batch, i), pad: 'x'.repeat(100) }, msg)
    await flushLogger(logger)
    // pino-roll checks the size after a write and rotates asynchronously: let it finish.
    await new Promise((resolve) => setTimeout(resolve, 20))
  }
}
