#!/usr/bin/env bash
# The release, in one command (from a clean checkout on main, after bumping the versions):
#   pnpm release                   build, pack-check, then pack every package into release/*.tgz
#   pnpm release publish           build, pack-check, then `pnpm -r publish --access public`
#   pnpm release publish --dry-run ... and any other `pnpm publish` flag (--tag next, --otp ...)
# `pnpm pack` / `pnpm publish` rewrite the `workspace:^` ranges between opskit packages to the
# versions being released (^0.1.0); scripts/pack-check.mjs checks that on the packed tarballs.
# Private workspace packages (the examples) are never packed or published.
set -euo pipefail
cd "$(dirname "$0")/.."

pnpm_() {
  if [[ "${npm_execpath:-}" == *pnpm* ]]; then node "$npm_execpath" "$@"
  elif command -v pnpm >/dev/null 2>&1; then pnpm "$@"
  else npx -y pnpm@10 "$@"
  fi
}

mode="${1:-pack}"
[ $# -gt 0 ] && shift
case "$mode" in
  pack | publish) ;;
  *) echo "usage: scripts/release.sh [pack | publish [pnpm publish flags]]" >&2; exit 2 ;;
esac

pnpm_ run build
node scripts/pack-check.mjs
if [ "$mode" = pack ]; then
  rm -rf release
  pnpm_ -r pack --pack-destination release
  ls -l release
else
  pnpm_ -r publish --access public "$@"
fi
