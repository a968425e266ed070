// `node bench/build-base.js <revision>` (after `pnpm build`): builds @opskit/logging and
// @opskit/outbound as they were at <revision> (a commit, a tag, `main~3`) into
// packages/<name>/dist-base, beside this checkout's dist. `OPSKIT_DIST=dist-base` then makes the
// outbound group's servers and bench/outbound-observer.js load that build, so that
// `node bench/same-core.js outbound opskit-outbound-base opskit-outbound` measures a change against
// the revision, both servers at once on one CPU. @opskit/core and @opskit/metrics stay this
// checkout's (a second copy of core would be a second request context).
import { execFileSync } from 'node:child_process'
import { mkdirSync, rmSync, writeFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

const root = dirname(dirname(fileURLToPath(import.meta.url)))
const revision = process.argv[2]
if (revision === undefined) {
  console.error('usage: node bench/build-base.js <revision>')
  process.exit(2)
}
try {
  execFileSync('git', ['rev-parse', '--verify', `${revision}^{commit}`], { cwd: root, stdio: 'ignore' })
} catch {
  console.error(`build-base: "${revision}" is not a commit of this repository`)
  process.exit(2)
}
const tsc = createRequire(join(root, 'package.json')).resolve('typescript/bin/tsc')
for (const name of ['logging', 'outbound']) {
  const pkg = join(root, 'packages', name)
  // Inside the package, so that its node_modules (@opskit/core, pino) resolve as for its own src.
  const src = join(pkg, 'base-src')
  rmSync(src, { recursive: true, force: true })
  rmSync(join(pkg, 'dist-base'), { recursive: true, force: true })
  mkdirSync(src)
  const archive = execFileSync('git', ['archive', revision, `packages/${name}/src`], { cwd: root })
  execFileSync('tar', ['-x', '-C', src, '--strip-components=3'], { input: archive })
  writeFileSync(join(src, 'tsconfig.json'), JSON.stringify({
    extends: '../../../tsconfig.base.json',
    compilerOptions: { rootDir: '.', outDir: '../dist-base', composite: false, declaration: false, declarationMap: false, sourceMap: false },
    include: ['.'],
  }))
  try {
    execFileSync(process.execPath, [tsc, '-p', join(src, 'tsconfig.json')], { stdio: 'inherit' })
  } catch {
    console.error(`build-base: @opskit/${name} at ${revision} does not compile against this checkout's packages (tsc's errors above)`)
    process.exit(1)
  } finally {
    rmSync(src, { recursive: true, force: true })
  }
  console.log(`build-base: packages/${name}/dist-base is @opskit/${name} at ${revision}`)
}
