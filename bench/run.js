// `node bench/run.js [--rounds N] [--duration S] [--connections C] [--warmup S] [group...]`
// Runs the named groups of bench/groups/ (all of them when none is named). Build first: `pnpm build`.
// BENCH_NODE=26|24|20|current|/path/to/node picks the Node line (default: the newest LTS found).
import { readdir } from 'node:fs/promises'
import { dirname, join } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { parseArgs, runGroup } from './lib/harness.js'
import { runOnSelectedNode } from './lib/node-line.js'

// The Node line: BENCH_NODE (a major, `current` or a path), else the newest LTS found (lib/node-line.js).
// The servers run on the node that runs this file, so on another line this file runs again there.
runOnSelectedNode()

const GROUPS_DIR = join(dirname(fileURLToPath(import.meta.url)), 'groups')

async function loadGroups() {
  const files = (await readdir(GROUPS_DIR)).filter((f) => f.endsWith('.js')).sort()
  const groups = []
  for (const file of files) {
    const mod = await import(pathToFileURL(join(GROUPS_DIR, file)).href)
    groups.push(mod.default)
  }
  return groups
}

const { options, groups: wanted } = parseArgs(process.argv.slice(2))
const all = await loadGroups()
const unknown = wanted.filter((name) => !all.some((g) => g.name === name))
if (unknown.length > 0) {
  console.error(`unknown group(s): ${unknown.join(', ')}; known: ${all.map((g) => g.name).join(', ')}`)
  process.exit(2)
}
const selected = wanted.length === 0 ? all : all.filter((g) => wanted.includes(g.name))
let failed = 0
for (const group of selected) {
  const result = await runGroup(group, options)
  failed += result.goals.filter((g) => !g.pass).length
}
if (failed > 0) console.log(`${failed} goal(s) not met`)
