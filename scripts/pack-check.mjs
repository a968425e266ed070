// `node scripts/pack-check.mjs` (after `pnpm build`; `pnpm pack-check` builds first): the check that
// keeps the packages publishable. It
//   1. packs every package with `pnpm -r pack` (which rewrites `workspace:` ranges, as publish does),
//   2. checks each tarball: README.md, LICENSE, dist/index.js + .d.ts, no *.tsbuildinfo, every source
//      map's sources inside the tarball, and the packed package.json (license, repository with
//      directory, homepage, bugs, publishConfig.access public, engines.node >=20.19, no workspace:
//      or catalog: range, @opskit/core a peer of every plugin, other opskit packages dependencies),
//   3. per package, in its own scratch project under the OS temp dir (outside the workspace), runs
//      the README's install line with npm: `npm install fastify@5 @opskit/core @opskit/<pkg>` from the
//      tarballs (opskit packages that are not on that line, such as @opskit/store, are served from
//      their tarballs through npm `overrides`, as the registry would serve them),
//   4. typechecks the README's Usage block (the ```ts block under `## Usage`) and a CommonJS
//      consumer with `strict`, `NodeNext` and `skipLibCheck: false`,
//   5. runs both: `require('@opskit/<pkg>')` from the CommonJS file, and the Usage block as written
//      with scripts/usage-harness.mjs preloaded (listen on a free port, one request, close).
// Env: PACK_CHECK_ONLY=core,audit (a subset), PACK_CHECK_JOBS (parallel consumers, default 3),
// PACK_CHECK_KEEP=1 (keep the scratch directory). Exit code 1 when anything failed.
import { execFile as execFileCb } from 'node:child_process'
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join, posix, relative, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'

const execFile = promisify(execFileCb)
const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..')
const rootPkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8'))
const NODE_FLOOR = '>=20.19'
const NPM_ARGS = ['--no-audit', '--no-fund', '--prefer-offline', '--loglevel=error']
const version = (name) => rootPkg.devDependencies?.[name] ?? 'latest'

// How each Usage block is exercised once it listens. `expect`: accepted statuses.
const RUNS = {
  core: { request: 'GET /bookings/b-1' },
  logging: { request: 'POST /orders' },
  // its checks point at the app's PostgreSQL, Redis, disk and payments service: 503 when one is absent
  health: { request: 'GET /health/ready', expect: '200,503' },
  metrics: { request: 'GET /metrics' },
  'rate-limit': { request: 'GET /items' },
  audit: { request: 'PUT /bookings/b-1' },
  'security-log': { request: 'POST /login', body: '{"email":"ada@example.com"}', expect: '401' },
  suite: { request: 'POST /bookings', body: '{"guest":"Ada","room":"12","nights":2}', headers: { authorization: 'Bearer admin-token' } },
  // with no sink in the environment the block registers none: the alerts route answers the admin
  alerts: { request: 'GET /alerts', headers: { 'x-user-id': 'u-admin', 'x-user-role': 'admin' } },
  'error-reports': { request: 'GET /orders/o-1', expect: '500' },
  outbound: { request: 'GET /orders/1', expect: '500' }, // inventory.internal does not resolve here: the failed call is observed
  console: { request: 'GET /ops/api/parts', headers: { 'x-user-role': 'admin' } },
  store: null, // no server: the block runs to its end
}
// A third-party import in a Usage block is installed as the user would, with its types.
const EXTRA_TYPES = { pg: '@types/pg' }

const failures = []
const fail = (pkg, message) => failures.push(`${pkg}: ${message}`)

function pnpmCommand() {
  // Run with the pnpm that runs us (`pnpm pack-check`), else the one on PATH, else `npx -y pnpm@10`.
  const execpath = process.env.npm_execpath
  if (execpath && /pnpm/.test(execpath)) return [process.execPath, [execpath]]
  return ['npx', ['-y', 'pnpm@10']]
}

async function run(cmd, args, opts = {}) {
  try {
    return await execFile(cmd, args, { maxBuffer: 64 * 1024 * 1024, ...opts })
  } catch (err) {
    const out = `${err.stdout ?? ''}${err.stderr ?? ''}`.trim()
    throw new Error(`${[cmd, ...args].join(' ')} failed (exit ${err.code})${out ? `:\n${out}` : ''}`)
  }
}

function usageBlock(readme) {
  const lines = readme.split('\n')
  const start = lines.findIndex((l) => /^## Usage\b/.test(l))
  if (start < 0) return undefined
  let open = -1
  for (let i = start + 1; i < lines.length; i++) {
    if (/^## /.test(lines[i])) break
    if (open < 0 && /^```ts\s*$/.test(lines[i])) open = i
    else if (open >= 0 && /^```\s*$/.test(lines[i])) return lines.slice(open + 1, i).join('\n') + '\n'
  }
  return undefined
}

function bareImports(source) {
  const names = new Set()
  for (const m of source.matchAll(/(?:^|\n)\s*import\s[^'"]*?['"]([^'"]+)['"]/g)) {
    const spec = m[1]
    if (spec.startsWith('node:') || spec.startsWith('.')) continue
    names.add(spec.startsWith('@') ? spec.split('/').slice(0, 2).join('/') : spec.split('/')[0])
  }
  return [...names]
}

function checkTarball(short, dir, pkgs) {
  const files = []
  const walk = (d) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, e.name)
      if (e.isDirectory()) walk(p)
      else files.push(relative(dir, p).split('\\').join('/'))
    }
  }
  walk(dir)
  const has = new Set(files)
  for (const f of ['package.json', 'README.md', 'LICENSE', 'dist/index.js', 'dist/index.d.ts']) {
    if (!has.has(f)) fail(short, `tarball has no ${f}`)
  }
  for (const f of files) {
    if (f.endsWith('.tsbuildinfo')) fail(short, `tarball ships ${f}`)
    if (f.endsWith('.map')) {
      const map = JSON.parse(readFileSync(join(dir, f), 'utf8'))
      for (const s of map.sources ?? []) {
        const target = posix.normalize(posix.join(posix.dirname(f), map.sourceRoot ?? '', s))
        if (!has.has(target)) fail(short, `${f} points at ${target}, which is not in the tarball`)
      }
    }
  }
  if (has.has('LICENSE') && !/MIT License/.test(readFileSync(join(dir, 'LICENSE'), 'utf8'))) fail(short, 'LICENSE is not the MIT licence')
  const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'))
  if (pkg.license !== 'MIT') fail(short, `license is ${pkg.license}`)
  if (!pkg.repository?.url || pkg.repository?.directory !== `packages/${short}`) fail(short, 'repository needs url and directory')
  if (!pkg.homepage) fail(short, 'no homepage')
  if (!pkg.bugs?.url) fail(short, 'no bugs.url')
  if (pkg.publishConfig?.access !== 'public') fail(short, 'publishConfig.access is not public')
  if (pkg.engines?.node !== NODE_FLOOR) fail(short, `engines.node is ${pkg.engines?.node}, expected ${NODE_FLOOR}`)
  const exp = pkg.exports?.['.']
  if (!exp?.types || !exp?.default) fail(short, 'exports["."] needs types and default (so require(esm) finds it)')
  for (const field of ['dependencies', 'peerDependencies', 'optionalDependencies', 'devDependencies']) {
    for (const [name, range] of Object.entries(pkg[field] ?? {})) {
      if (/^(workspace|catalog):/.test(range)) fail(short, `${field}.${name} is ${range}`)
      const other = pkgs.find((p) => p.name === name)
      if (other && range !== `^${other.version}` && range !== other.version) fail(short, `${field}.${name} is ${range}, not ^${other.version}`)
    }
  }
  const peers = Object.keys(pkg.peerDependencies ?? {})
  if (short !== 'core' && short !== 'store' && !peers.includes('@opskit/core')) fail(short, '@opskit/core is not a peer')
  for (const p of peers) if (p.startsWith('@opskit/') && p !== '@opskit/core') fail(short, `${p} is a peer; opskit packages other than core are dependencies`)
  return pkg
}

async function consumer(short, pkgs, tarballs, scratch) {
  const tools = join(scratch, 'tools')
  const log = []
  const pkg = pkgs.find((p) => p.short === short)
  const dir = join(scratch, 'consumers', short)
  mkdirSync(join(dir, 'src'), { recursive: true })
  const readme = readFileSync(join(ROOT, 'packages', short, 'README.md'), 'utf8')
  const block = usageBlock(readme)
  if (block === undefined) {
    fail(short, 'README has no ```ts block under ## Usage')
    return log
  }
  // The install line: fastify@5, @opskit/core (the peer), the package; other opskit packages come
  // from the "registry" (their tarballs, through overrides).
  // Other opskit packages the Usage block imports are on the README's install line too.
  const companions = bareImports(block).filter((n) => n.startsWith('@opskit/') && n !== pkg.name && n !== '@opskit/core')
  const line = short === 'core' || short === 'store' ? [pkg.name] : ['@opskit/core', ...companions, pkg.name]
  const overrides = Object.fromEntries(
    pkgs.filter((p) => !line.includes(p.name)).map((p) => [p.name, `file:${tarballs[p.name]}`]),
  )
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: `consumer-${short}`, private: true, type: 'module', overrides }, null, 2))
  const extras = bareImports(block).filter((n) => n !== 'fastify' && !n.startsWith('@opskit/'))
  const extraSpecs = extras.flatMap((n) => [n, ...(EXTRA_TYPES[n] ? [EXTRA_TYPES[n]] : [])]).map((n) => `${n}@${version(n)}`)
  const install = ['install', ...NPM_ARGS, 'fastify@5', ...line.map((n) => tarballs[n]), ...extraSpecs]
  log.push(`$ npm install fastify@5 ${line.join(' ')}${extraSpecs.length ? ` ${extraSpecs.join(' ')}` : ''}`)
  await run('npm', install, { cwd: dir })
  // one copy of each opskit package (one @opskit/core, one AsyncLocalStorage)
  for (const p of pkgs) {
    const nested = readdirSync(join(dir, 'node_modules', '@opskit'), { withFileTypes: true })
      .filter((e) => existsSync(join(dir, 'node_modules', '@opskit', e.name, 'node_modules', p.name)))
    if (nested.length > 0) fail(short, `a second copy of ${p.name} under ${nested.map((e) => e.name).join(', ')}`)
  }

  writeFileSync(join(dir, 'src', 'usage.ts'), block)
  writeFileSync(
    join(dir, 'src', 'require.cts'),
    [
      `// A CommonJS consumer: compiles to require('${pkg.name}'), which Node 20.19+ / 22.12+ load (require(esm)).`,
      `import * as opskit from '${pkg.name}'`,
      `const names = Object.keys(opskit)`,
      `if (names.length === 0) throw new Error('require(${pkg.name}) gave no exports')`,
      `console.log(\`require('${pkg.name}'): \${names.length} exports\`)`,
      '',
    ].join('\n'),
  )
  writeFileSync(
    join(dir, 'tsconfig.json'),
    JSON.stringify({
      compilerOptions: {
        strict: true, module: 'NodeNext', moduleResolution: 'NodeNext', target: 'ES2022', skipLibCheck: false,
        rootDir: 'src', outDir: 'dist', types: ['node'], typeRoots: [join(dir, 'node_modules', '@types'), join(tools, 'node_modules', '@types')],
      },
      include: ['src'],
    }, null, 2),
  )
  try {
    await run(process.execPath, [join(tools, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', dir], { cwd: dir })
    log.push('typecheck (strict, NodeNext, skipLibCheck false): Usage block and CommonJS consumer ok')
  } catch (err) {
    fail(short, `typecheck of the README Usage block / CommonJS consumer failed\n${err.message}`)
    return log
  }
  const req = await run(process.execPath, [join(dir, 'dist', 'require.cjs')], { cwd: dir, timeout: 120_000 }).catch((err) => {
    fail(short, `CommonJS require failed\n${err.message}`)
  })
  if (req) log.push(req.stdout.trim())
  copyFileSync(join(ROOT, 'scripts', 'usage-harness.mjs'), join(dir, 'usage-harness.mjs'))
  const spec = RUNS[short] === undefined ? { request: 'GET /', expect: '200,404' } : RUNS[short]
  const env = { ...process.env, NODE_ENV: 'production' }
  delete env.PORT
  const args = spec === null ? [join(dir, 'dist', 'usage.js')] : ['--import', './usage-harness.mjs', join(dir, 'dist', 'usage.js')]
  if (spec !== null) {
    env.USAGE_REQUEST = spec.request
    env.USAGE_EXPECT = spec.expect ?? '200'
    if (spec.body !== undefined) env.USAGE_BODY = spec.body
    else delete env.USAGE_BODY
    if (spec.headers !== undefined) env.USAGE_HEADERS = JSON.stringify(spec.headers)
    else delete env.USAGE_HEADERS
  }
  const started = await run(process.execPath, args, { cwd: dir, env, timeout: 180_000 }).catch((err) => {
    fail(short, `the Usage block did not run as written\n${err.message}`)
  })
  if (started) log.push(...started.stdout.split('\n').filter((l) => l.startsWith('usage-harness:')), spec === null ? 'usage block ran to its end' : '')
  return log.filter(Boolean)
}

async function main() {
  const t0 = Date.now()
  const scratch = mkdtempSync(join(tmpdir(), 'opskit-pack-'))
  if (!relative(ROOT, scratch).startsWith('..')) throw new Error(`scratch dir ${scratch} is inside the workspace`)
  const [pnpm, pnpmArgs] = pnpmCommand()
  const tarDir = join(scratch, 'tarballs')
  // The consumers' compiler, once: typescript and @types/node at the workspace's versions.
  const tools = join(scratch, 'tools')
  mkdirSync(tools, { recursive: true })
  writeFileSync(join(tools, 'package.json'), '{"private":true}')
  const toolsReady = run('npm', ['install', ...NPM_ARGS, `typescript@${version('typescript')}`, `@types/node@${version('@types/node')}`], { cwd: tools })
  const { stdout } = await run(pnpm, [...pnpmArgs, '-r', 'pack', '--pack-destination', tarDir, '--json'], { cwd: ROOT })
  const packed = JSON.parse(stdout)
  const tarballs = Object.fromEntries(packed.map((p) => [p.name, p.filename]))
  const pkgs = packed.map((p) => ({ name: p.name, version: p.version, short: p.name.replace('@opskit/', '') }))
  const onDisk = readdirSync(join(ROOT, 'packages')).filter((d) => existsSync(join(ROOT, 'packages', d, 'package.json')))
  for (const d of onDisk) if (!pkgs.some((p) => p.short === d)) fail(d, 'was not packed')
  console.log(`packed ${pkgs.length} packages into ${tarDir}`)

  for (const p of pkgs) {
    const dir = join(scratch, 'unpacked', p.short)
    mkdirSync(dir, { recursive: true })
    await run('tar', ['-xzf', tarballs[p.name], '-C', dir, '--strip-components=1'])
    checkTarball(p.short, dir, pkgs)
  }
  console.log(`tarball contents and packed package.json checked${failures.length ? ` (${failures.length} problem(s))` : ''}`)

  await toolsReady
  const only = process.env.PACK_CHECK_ONLY?.split(',').filter(Boolean)
  const queue = pkgs.map((p) => p.short).filter((s) => !only || only.includes(s))
  const jobs = Number(process.env.PACK_CHECK_JOBS ?? 3)
  const worker = async () => {
    for (let short = queue.shift(); short !== undefined; short = queue.shift()) {
      const t = Date.now()
      let log
      try {
        log = await consumer(short, pkgs, tarballs, scratch)
      } catch (err) {
        fail(short, err.message)
        log = []
      }
      const bad = failures.some((f) => f.startsWith(`${short}:`))
      console.log(`\n--- ${pkgs.find((p) => p.short === short).name}: ${bad ? 'FAIL' : 'ok'} (${((Date.now() - t) / 1000).toFixed(1)} s)`)
      for (const l of log) console.log(`    ${l.split('\n').join('\n    ')}`)
    }
  }
  await Promise.all(Array.from({ length: jobs }, worker))

  if (process.env.PACK_CHECK_KEEP === '1') console.log(`\nscratch kept: ${scratch}`)
  else rmSync(scratch, { recursive: true, force: true })
  console.log(`\npack-check on Node ${process.version}: ${failures.length === 0 ? 'ok' : `${failures.length} failure(s)`} in ${((Date.now() - t0) / 1000).toFixed(0)} s`)
  for (const f of failures) console.log(`  FAIL ${f.split('\n').join('\n       ')}`)
  process.exitCode = failures.length === 0 ? 0 : 1
}

await main()
