#!/usr/bin/env bash
# Prometheus checks for @opskit/metrics, called by .ci/run:
#   1. promtool check rules  packages/metrics/prometheus/alerts.yml
#   2. promtool test rules   packages/metrics/prometheus/alerts.test.yml (each alert firing and not)
#   3. promtool check metrics on a scrape of a real server (core + health + metrics, built dist/)
# Installs prometheus (for promtool) with apt-get only when promtool is missing.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v promtool >/dev/null 2>&1; then
  echo "promtool not found: installing prometheus with apt-get"
  SUDO=""
  if [ "$(id -u)" != "0" ] && command -v sudo >/dev/null 2>&1; then SUDO="sudo"; fi
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq prometheus >/dev/null
fi
promtool --version | head -n 1

echo "== promtool check rules"
promtool check rules packages/metrics/prometheus/alerts.yml

echo "== promtool test rules"
promtool test rules packages/metrics/prometheus/alerts.test.yml

if [ ! -f packages/metrics/dist/index.js ] || [ ! -f packages/health/dist/index.js ] || [ ! -f packages/core/dist/index.js ]; then
  echo "== building (dist/ missing)"
  pnpm run build
fi

echo "== promtool check metrics (scrape of a real server)"
scrape=$(mktemp)
trap 'rm -f "$scrape"' EXIT
node --input-type=module - "$scrape" <<'JS'
import { writeFileSync } from 'node:fs'
import Fastify from 'fastify'
import { opskitCore } from './packages/core/dist/index.js'
import { opskitHealth, memoryCheck } from './packages/health/dist/index.js'
import { opskitMetrics } from './packages/metrics/dist/index.js'

const app = Fastify()
await app.register(opskitCore)
await app.register(opskitHealth, { checks: { memory: memoryCheck() } })
await app.register(opskitMetrics)
app.get('/orders/:id', async () => ({ ok: true }))
app.get('/boom', async () => { throw new Error('boom') })
await app.listen({ port: 0, host: '127.0.0.1' })
const base = `http://127.0.0.1:${app.server.address().port}`
for (const path of ['/orders/1', '/orders/2', '/boom', '/no/such/route', '/health/ready']) await (await fetch(base + path)).arrayBuffer()
const res = await fetch(`${base}/metrics`)
if (res.status !== 200) throw new Error(`GET /metrics answered ${res.status}`)
writeFileSync(process.argv[2], await res.text())
await app.close()
JS
if ! promtool check metrics < "$scrape"; then
  echo "promtool check metrics failed on the scrape above" >&2
  exit 1
fi
echo "   $(grep -c '^# TYPE' "$scrape") metric families, all clean"
echo "promtool checks passed"
