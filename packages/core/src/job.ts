import { randomUUID } from 'node:crypto'
import { requestContextStorage } from './context.js'
import { FST_OPSKIT_CORE_INVALID_JOB, FST_OPSKIT_CORE_INVALID_JOB_OBSERVER } from './errors.js'
import { isValidRequestId } from './request-id.js'
import { newSpanId } from './trace-context.js'
import type { RequestContext } from './types.js'

/** What an observer is told about a job. Observers are called inside the job's context. */
export interface JobInfo {
  readonly name: string
  readonly id: string
  /** The context `fn` runs in (`getRequestContext()` inside the job). */
  readonly context: RequestContext
}

/** How a job ended. */
export interface JobResult {
  readonly status: 'ok' | 'failed'
  /** From just before `fn` was called to its settling, in milliseconds. */
  readonly durationMs: number
  /** What `fn` threw (or rejected with), when `status` is `'failed'`. */
  readonly error?: unknown
}

/** Hooks `@opskit/logging` and `@opskit/metrics` (or your code) add to watch jobs. A throwing hook never affects the job. */
export interface JobObserver {
  jobStarted?(job: JobInfo): void
  jobEnded?(job: JobInfo, result: JobResult): void
}

/** `fastify.opskitJobs`: the observers of the jobs attributed to one Fastify instance. */
export interface JobObservers {
  /** Adds an observer; returns the function that removes it (call it in `onClose`). */
  add(observer: JobObserver): () => void
}

export interface RunJobOptions {
  /** The job's id (a queue message id, say): 1–128 characters of `A-Za-z0-9._:-`. Default: a fresh UUID. */
  id?: string
  /**
   * The Fastify instance whose logging and metrics observe this job. Default: the instance serving
   * the request (or job) `runJob` is called from; outside any, every instance with `@opskit/core`
   * registered and not closed (in a process that runs one app, that app).
   */
  app?: { readonly opskitJobs: JobObservers }
}

/** The hub behind `fastify.opskitJobs`. */
export class JobObserverSet implements JobObservers {
  // One entry per add(), so the same observer added twice is removed one call at a time.
  readonly observers = new Set<{ readonly observer: JobObserver }>()

  add(observer: JobObserver): () => void {
    if (observer === null || typeof observer !== 'object') throw new FST_OPSKIT_CORE_INVALID_JOB_OBSERVER()
    const entry = { observer }
    this.observers.add(entry)
    return () => {
      this.observers.delete(entry)
    }
  }
}

// The instances a job run outside any request is attributed to: added by core's register(),
// removed in its onClose. Only jobs without a request, a parent job or `app` read it.
const liveInstances = new Set<JobObserverSet>()

/** Marks a context with the observer sets of its instance (a request) or of its job. */
const observersSym = Symbol('opskit.core.jobObservers')

type MarkedContext = RequestContext & { [observersSym]?: readonly JobObserverSet[] }

/** Called by the core plugin: requests of this instance, and jobs started inside them, go to `set`. */
export function attachJobObservers(context: RequestContext, sets: readonly JobObserverSet[]): void {
  ;(context as MarkedContext)[observersSym] = sets
}

/**
 * Whether a request or job context is one of `app`'s: a request that instance serves, or a job
 * attributed to it (started inside one of its requests, given `{ app }`, or run outside any
 * request while it is live). A context core did not make (`runWithRequestContext`) belongs to every instance.
 * For plugins that must leave another instance's work alone (`@opskit/outbound` in a process with two apps).
 */
export function contextBelongsTo(context: RequestContext, app: { readonly opskitJobs: JobObservers }): boolean {
  const marked = (context as MarkedContext)[observersSym]
  return marked === undefined || marked.includes(app.opskitJobs as JobObserverSet)
}

export function addLiveInstance(set: JobObserverSet): () => void {
  liveInstances.add(set)
  return () => {
    liveInstances.delete(set)
  }
}

function targetsOf(app: { readonly opskitJobs: JobObservers } | undefined, parent: RequestContext | undefined): readonly JobObserverSet[] {
  if (app !== undefined) {
    const set: unknown = app.opskitJobs
    return set instanceof JobObserverSet ? [set] : []
  }
  const marked = (parent as MarkedContext | undefined)?.[observersSym]
  if (marked !== undefined) return marked
  return [...liveInstances]
}

function notify(sets: readonly JobObserverSet[], call: (observer: JobObserver) => void): void {
  for (const set of sets) {
    for (const entry of set.observers) {
      try {
        call(entry.observer)
      } catch {
        // An observer's failure (a log sink, a metric) is never the job's failure.
      }
    }
  }
}

const MAX_NAME_LENGTH = 128
// eslint-disable-next-line no-control-regex
const CONTROL_CHAR = /[\u0000-\u001f\u007f-\u009f]/

function jobContext(name: string, id: string, parent: RequestContext | undefined): RequestContext {
  const context: RequestContext = {
    requestId: id,
    actor: null,
    ip: '',
    userAgent: undefined,
    method: 'JOB',
    url: '',
    job: name,
    jobId: id,
  }
  if (parent !== undefined) {
    const parentRequestId = parent.jobId === undefined ? parent.requestId : parent.parentRequestId
    if (parentRequestId !== undefined) context.parentRequestId = parentRequestId
    if (parent.jobId !== undefined) context.parentJobId = parent.jobId
    // A job started inside a traced request (or job) stays in that trace, as a span of its own:
    // its lines, rows and outbound `traceparent` carry the parent's trace id and a fresh span id.
    if (parent.traceId !== undefined) {
      context.traceId = parent.traceId
      context.spanId = newSpanId()
    }
  }
  return context
}

/**
 * Runs `fn` as a background job with a context of its own: `getRequestContext()` inside gives
 * `{ requestId: <job id>, job: name, jobId, actor: null, … }` (plus `parentRequestId` when started
 * inside a request, `parentJobId` inside another job), so every log line, audit event and security
 * event made inside carries the job id. Started inside a traced request or job, it keeps that
 * `traceId` under a fresh `spanId`. The observers of the instance (`@opskit/logging`'s lines,
 * `@opskit/metrics`' counters) are told when it starts and ends. Resolves with what `fn` resolves,
 * rejects with what it throws; a bad `name` or `id` rejects with `FST_OPSKIT_CORE_INVALID_JOB`.
 */
export async function runJob<T>(name: string, fn: () => T | PromiseLike<T>, opts: RunJobOptions = {}): Promise<T> {
  if (typeof name !== 'string' || name.length === 0 || name.length > MAX_NAME_LENGTH || CONTROL_CHAR.test(name)) {
    throw new FST_OPSKIT_CORE_INVALID_JOB(`name must be a string of 1-${MAX_NAME_LENGTH} characters without control characters`)
  }
  if (typeof fn !== 'function') throw new FST_OPSKIT_CORE_INVALID_JOB('fn must be a function')
  if (opts === null || typeof opts !== 'object') throw new FST_OPSKIT_CORE_INVALID_JOB('options must be an object')
  const { id = randomUUID(), app } = opts
  if (!isValidRequestId(id)) throw new FST_OPSKIT_CORE_INVALID_JOB('id must be 1-128 characters of A-Za-z0-9._:-')

  const parent = requestContextStorage.getStore()
  const targets = targetsOf(app, parent)
  const context = jobContext(name, id, parent)
  attachJobObservers(context, targets)
  const job: JobInfo = { name, id, context }
  return requestContextStorage.run(context, async () => {
    notify(targets, (observer) => observer.jobStarted?.(job))
    const start = performance.now()
    try {
      const value = await fn()
      const result: JobResult = { status: 'ok', durationMs: performance.now() - start }
      notify(targets, (observer) => observer.jobEnded?.(job, result))
      return value
    } catch (error) {
      const result: JobResult = { status: 'failed', durationMs: performance.now() - start, error }
      notify(targets, (observer) => observer.jobEnded?.(job, result))
      throw error
    }
  })
}
