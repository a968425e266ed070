import type { Registry } from 'prom-client'

interface OmExemplar {
  labelSet: Record<string, string | number>
  value: number
  timestamp?: number
}

interface OmSample {
  metricName?: string
  labels?: Record<string, string | number | undefined>
  value: number
  exemplar?: OmExemplar | null
}

interface OmMetric {
  name: string
  help: string
  /** `'counter'`, `'gauge'`, … at run time (prom-client's `MetricType` enum is typed as numbers). */
  type: unknown
  values?: OmSample[]
}

const TYPES: Record<string, string | undefined> = { counter: 'counter', gauge: 'gauge', histogram: 'histogram', summary: 'summary' }

/**
 * True when a scraper's `Accept` header prefers OpenMetrics (`application/openmetrics-text`, any
 * version) to the Prometheus text format, as Prometheus itself sends it.
 */
export function wantsOpenMetrics(accept: string | undefined): boolean {
  if (accept === undefined || !accept.includes('application/openmetrics-text')) return false
  let open = -1
  let text = -1
  for (const range of accept.split(',')) {
    const params = range.split(';')
    const type = (params[0] as string).trim().toLowerCase()
    let q = 1
    for (let i = 1; i < params.length; i++) {
      const [key, value] = (params[i] as string).split('=')
      if (key?.trim().toLowerCase() === 'q' && value !== undefined) q = Number(value.trim())
    }
    if (!Number.isFinite(q)) q = 0
    if (type === 'application/openmetrics-text') open = Math.max(open, q)
    else if (type === 'text/plain') text = Math.max(text, q)
  }
  return open > 0 && open >= text
}

function escapeLabel(value: string): string {
  return value.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"')
}

function number(value: number): string {
  if (Number.isNaN(value)) return 'NaN'
  if (value === Infinity) return '+Inf'
  if (value === -Infinity) return '-Inf'
  return String(value)
}

function labelText(labels: Record<string, string | number | undefined>): string {
  let out = ''
  for (const key in labels) {
    const value = labels[key]
    if (value === undefined) continue
    out += (out === '' ? '' : ',') + key + '="' + escapeLabel(String(value)) + '"'
  }
  return out
}

function familyText(metric: OmMetric): string {
  const type = TYPES[String(metric.type)] ?? 'unknown'
  // OpenMetrics names a counter family without `_total`; its samples carry the suffix.
  const family = type === 'counter' ? metric.name.replace(/_total$/, '') : metric.name
  let out = `# HELP ${family} ${escapeLabel(metric.help)}\n# TYPE ${family} ${type}\n`
  for (const sample of metric.values ?? []) {
    let name = sample.metricName ?? metric.name
    if (type === 'counter' && (sample.metricName === undefined || sample.metricName === metric.name)) name = `${family}_total`
    const text = labelText(sample.labels ?? {})
    out += name + (text === '' ? '' : `{${text}}`) + ' ' + number(sample.value)
    const exemplar = sample.exemplar
    if (exemplar !== undefined && exemplar !== null && Object.keys(exemplar.labelSet).length > 0) {
      out += ` # {${labelText(exemplar.labelSet)}} ${number(exemplar.value)}`
      if (exemplar.timestamp !== undefined) out += ` ${exemplar.timestamp.toFixed(3)}`
    }
    out += '\n'
  }
  return out
}

/**
 * The registry in the OpenMetrics text format (1.0.0): counter families without `_total`, samples
 * with it, histogram buckets with their exemplars, `# EOF` at the end. Built from each metric's
 * values, so the same registry also serves the Prometheus text format unchanged (prom-client's own
 * OpenMetrics output needs a registry of that content type and renames its counters in place).
 */
export async function renderOpenMetrics(registry: Registry): Promise<string> {
  // getMetricsAsJSON() adds the registry's default labels to every sample (after its own labels,
  // as the Prometheus text format prints them) and keeps each sample's exemplar.
  const metrics: OmMetric[] = await registry.getMetricsAsJSON()
  let out = ''
  for (const metric of metrics) out += familyText(metric)
  return out + '# EOF\n'
}
