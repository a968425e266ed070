import type { JobObserver } from '@opskit/core'
import { OPSKIT_METRICS } from './known-metrics.js'
import type { MetricsApi } from './metrics-api.js'

/** Upper bounds (seconds) of `job_duration_seconds`: jobs run from milliseconds to an hour. */
export const JOB_DURATION_BUCKETS = [0.01, 0.05, 0.1, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800, 3600]

/**
 * `jobs_total{job,status}` and `job_duration_seconds{job}` for the jobs (`runJob()` of
 * `@opskit/core`) attributed to this instance: failed jobs are timed too.
 */
export function jobMetrics(metrics: MetricsApi): JobObserver {
  const total = metrics.counter({ ...OPSKIT_METRICS.jobs, labelNames: [...OPSKIT_METRICS.jobs.labelNames] })
  const duration = metrics.histogram({ ...OPSKIT_METRICS.jobDuration, labelNames: [...OPSKIT_METRICS.jobDuration.labelNames], buckets: JOB_DURATION_BUCKETS })
  return {
    jobEnded(job, result) {
      total.inc({ job: job.name, status: result.status })
      duration.observe({ job: job.name }, result.durationMs / 1000)
    },
  }
}
