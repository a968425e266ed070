import createError from '@fastify/error'
import { createOptionError } from '@opskit/core'

/** An option is unknown or invalid at `register()`; the message names it. */
export const FST_OPSKIT_METRICS_INVALID_OPTION = createOptionError('FST_OPSKIT_METRICS_INVALID_OPTION', '@opskit/metrics')

/** @deprecated Renamed `FST_OPSKIT_METRICS_INVALID_OPTION` (the same class: its errors carry the new code). */
export const FST_METRICS_INVALID_OPTION = FST_OPSKIT_METRICS_INVALID_OPTION

/** `fastify.metrics.<kind>(config)` without a config holding a non-empty `name`. */
export const FST_OPSKIT_METRICS_INVALID_METRIC = createError<[kind: string]>(
  'FST_OPSKIT_METRICS_INVALID_METRIC',
  '@opskit/metrics: fastify.metrics.%s() needs a config with a name',
  500,
  TypeError,
)

/** `fastify.metrics.<kind>(config)` for a name already registered as another type or with other label names. */
export const FST_OPSKIT_METRICS_METRIC_CONFLICT = createError<[name: string, problem: string]>(
  'FST_OPSKIT_METRICS_METRIC_CONFLICT',
  '@opskit/metrics: metric "%s" is already registered %s',
  500,
  TypeError,
)

