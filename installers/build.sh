#!/usr/bin/env bash
# Builds the release bundles: one self-contained .tar.gz per program (agent, hub) that installs
# with no network access.
#
#   installers/build.sh [--out DIR] [--version V] [--program agent|hub] [--no-compile]
#
#   --out DIR       where the archives go (default: installers/build, not committed)
#   --version V     the release version written into the bundle (default: the root package.json's).
#                   Tests use it to make "the next release" from the same tree.
#   --program P     only this program (default: both)
#   --no-compile    skip `npm run build` (the caller just built)
#
# What goes in, without a file list to keep up to date:
#   - each package the program needs (packages/shared and packages/<program>) as it is in the tree,
#     minus TypeScript sources, tests, source maps and declarations: dist/, bin/, package.json and
#     the assets `npm run build` copies into dist/ (the console's browser files, the page templates);
#   - production node_modules: `npm ci --omit=dev --workspace packages/<program>` in a staging
#     copy of the workspace manifests, from the local npm cache (--offline: no network);
#   - the native better-sqlite3 addon: the repository's own build when it loads under this Node
#     (same ABI), otherwise compiled from source in the staging copy (~80 s);
#   - examples/<program>.yaml, docs/operations.md, the systemd unit, the install script and its
#     shared functions, a README with the Node.js it needs, and release.env (version, ABI, arch).
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$HERE/.." && pwd)
OUT="$HERE/build"
VERSION=""
PROGRAMS=(agent hub)
COMPILE=1

while [ $# -gt 0 ]; do
  case "$1" in
    --out) OUT=$2; shift 2 ;;
    --version) VERSION=$2; shift 2 ;;
    --program) PROGRAMS=("$2"); shift 2 ;;
    --no-compile) COMPILE=0; shift ;;
    -h|--help) sed -n '2,25p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "build.sh: unknown option $1 (see --help)" >&2; exit 2 ;;
  esac
done

say() { printf '[build] %s\n' "$*" >&2; }

[ -n "$VERSION" ] || VERSION=$(node -p "require('$REPO/package.json').version")
case "$VERSION" in *[!0-9A-Za-z.+-]*|"") echo "build.sh: bad version '$VERSION'" >&2; exit 2 ;; esac
ARCH=$(node -p 'process.arch')               # x64, arm64 …
NODE_ABI=$(node -p 'process.versions.modules') # the native addon only loads under this ABI
NODE_VERSION=$(node -p 'process.versions.node')
NODE_MAJOR=${NODE_VERSION%%.*}
NODE_MIN=$(node -p "(require('$REPO/package.json').engines?.node ?? '>=20.10').replace(/^>=\s*/, '')")
COMMIT=$(git -C "$REPO" rev-parse --short HEAD 2>/dev/null || echo unknown)
if [ -n "$(git -C "$REPO" status --porcelain 2>/dev/null | head -1)" ]; then COMMIT="$COMMIT+dirty"; fi

if [ "$COMPILE" = 1 ]; then
  say "compiling (npm run build: tsc, then the browser files and templates into dist/)"
  (cd "$REPO" && npm run --silent build)
fi

mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)

# Does the repository's better-sqlite3 addon load under this Node? Then it is reused as is.
REPO_ADDON="$REPO/node_modules/better-sqlite3/build/Release/better_sqlite3.node"
REUSE_ADDON=0
if [ -f "$REPO_ADDON" ] && (cd "$REPO" && node -e "new (require('better-sqlite3'))(':memory:').close()") 2>/dev/null; then
  REUSE_ADDON=1
fi

# Copies one workspace package into the staging tree: everything but sources, tests and build leftovers.
copy_package() {
  local src=$1 dst=$2
  mkdir -p "$dst"
  # tar with excludes keeps this free of a file list: new dist files and assets come along.
  tar -C "$src" \
    --exclude=./node_modules --exclude='./tsconfig*.json' --exclude='*.tsbuildinfo' \
    --exclude='*.ts' --exclude='*.tsx' --exclude='*.map' \
    --exclude='*.test.js' --exclude='*.test.mjs' --exclude='*.test.cjs' --exclude='*.test-support.js' \
    --exclude='__snapshots__' --exclude='fixtures' --exclude='./src' \
    -cf - . | tar -C "$dst" -xf -
  # A folder left empty by the excludes (src/ of a package without assets) is noise.
  find "$dst" -depth -type d -empty -delete
}

build_one() {
  local program=$1
  local name="sentinela-$program-$VERSION-linux-$ARCH"
  local stage="$OUT/stage/$name"
  say "$name: staging in $stage"
  rm -rf "$stage"
  mkdir -p "$stage/app"

  # 1. The workspace manifests exactly as in the tree, so that package-lock.json matches and
  #    `npm ci` accepts it; only this program's workspace gets installed.
  cp "$REPO/package.json" "$REPO/package-lock.json" "$stage/app/"
  local ws
  for ws in $(node -p "require('$REPO/package.json').workspaces.join(' ')"); do
    mkdir -p "$stage/app/$ws"
    cp "$REPO/$ws/package.json" "$stage/app/$ws/"
  done
  # The root's "prepare" script builds the tree; the bundle is already built.
  node -e "
    const f = process.argv[1]; const p = require(f);
    delete p.scripts; delete p.devDependencies; p.version = process.argv[2];
    require('fs').writeFileSync(f, JSON.stringify(p, null, 2) + '\n');" "$stage/app/package.json" "$VERSION"
  say "$name: npm ci --omit=dev --offline (from the local npm cache)"
  if ! (cd "$stage/app" && npm ci --omit=dev --offline --ignore-scripts --no-audit --no-fund \
      --workspace "packages/$program" --loglevel=error >"$OUT/npm-ci-$program.log" 2>&1); then
    # A package the lockfile names is not in the npm cache (installed some other way): take the
    # production dependency tree from the repository's own node_modules instead, exactly as npm
    # installed and the tests use it (`npm ls --omit=dev` lists it), still without the network.
    say "$name: npm ci needs the network ($(grep -m1 -o 'request to [^ ]*' "$OUT/npm-ci-$program.log" || echo 'see npm-ci log')); copying the production tree from the repository's node_modules"
    rm -rf "$stage/app/node_modules"
    local p
    (cd "$REPO" && npm ls --omit=dev --workspace "packages/$program" --all --parseable 2>/dev/null) \
      | sed "s|^$REPO/||" | grep '^node_modules/' | grep -v '^node_modules/@sentinela/' | sort -u \
      | while read -r p; do
          mkdir -p "$stage/app/$p"
          tar -C "$REPO/$p" --exclude=./node_modules -cf - . | tar -C "$stage/app/$p" -xf -
        done
    mkdir -p "$stage/app/node_modules/@sentinela"
    for p in shared "$program"; do ln -sfn "../../packages/$p" "$stage/app/node_modules/@sentinela/$p"; done
  fi

  # 2. The packages themselves, replacing the manifest-only copies; drop the other workspaces.
  for ws in $(node -p "require('$REPO/package.json').workspaces.join(' ')"); do
    rm -rf "${stage:?}/app/$ws"
  done
  local dep
  for dep in shared "$program"; do copy_package "$REPO/packages/$dep" "$stage/app/packages/$dep"; done
  rmdir "$stage/app/tools" 2>/dev/null || true
  find "$stage/app/node_modules" -maxdepth 2 -type l ! -exec test -e {} \; -delete   # links to workspaces not shipped

  # 3. The version: package.json files and the compiled constant both programs print.
  for dep in shared "$program"; do
    node -e "
      const f = process.argv[1]; const p = require(f); p.version = process.argv[2];
      for (const k of ['dependencies']) if (p[k]?.['@sentinela/shared']) p[k]['@sentinela/shared'] = process.argv[2];
      require('fs').writeFileSync(f, JSON.stringify(p, null, 2) + '\n');" "$stage/app/packages/$dep/package.json" "$VERSION"
  done
  sed -i -E "s/(SENTINELA_VERSION = )'[^']*'/\1'$VERSION'/" "$stage/app/packages/shared/dist/version.js"
  grep -q "'$VERSION'" "$stage/app/packages/shared/dist/version.js" || { echo "build.sh: could not set the version in shared/dist/version.js" >&2; exit 1; }
  # The agent's bundled CLI (tools/bundle-agent.mjs) carries its own copy of the constant.
  local bundle="$stage/app/packages/$program/dist/bundle"
  if [ -d "$bundle" ]; then
    local chunk
    chunk=$(grep -l 'SENTINELA_VERSION = "' "$bundle"/*.mjs) || { echo "build.sh: no version constant in $bundle" >&2; exit 1; }
    sed -i -E "s/(SENTINELA_VERSION = )\"[^\"]*\"/\1\"$VERSION\"/" $chunk
    grep -q "SENTINELA_VERSION = \"$VERSION\"" $chunk || { echo "build.sh: could not set the version in $chunk" >&2; exit 1; }
  fi

  # 4. better-sqlite3: the native addon for this machine, and none of its C sources.
  local bs="$stage/app/node_modules/better-sqlite3"
  if [ -d "$bs" ]; then
    if [ "$REUSE_ADDON" = 1 ]; then
      say "$name: reusing the repository's better-sqlite3 addon (Node ABI $NODE_ABI)"
      mkdir -p "$bs/build/Release"
      cp "$REPO_ADDON" "$bs/build/Release/"
    else
      say "$name: compiling better-sqlite3 for Node ABI $NODE_ABI (about 80 s)"
      (cd "$stage/app" && npm rebuild better-sqlite3 --foreground-scripts --loglevel=error >/dev/null)
    fi
    find "$bs/build" -mindepth 1 -maxdepth 1 ! -name Release -exec rm -rf {} +
    find "$bs/build/Release" -mindepth 1 ! -name better_sqlite3.node -exec rm -rf {} +
    rm -rf "$bs/deps" "$bs/src"
  fi
  # Type declarations are for development only.
  rm -rf "$stage/app/node_modules/@types"
  (cd "$stage/app" && node -e "new (require('better-sqlite3'))(':memory:').close()") \
    || { echo "build.sh: the staged better-sqlite3 does not load" >&2; exit 1; }
  # The staged program must start from the staged files alone (a module left out, a broken tree).
  local said
  said=$(node "$stage/app/packages/$program/bin/sentinela-$program.js" --version 2>&1) || true
  [ "$said" = "$VERSION" ] || { printf 'build.sh: the staged sentinela-%s does not run (--version said):\n%s\n' "$program" "$said" >&2; exit 1; }

  # 5. What the installer needs beside the app.
  mkdir -p "$stage/lib" "$stage/systemd" "$stage/examples" "$stage/docs"
  cp "$HERE/$program/install.sh" "$stage/install.sh"
  cp "$HERE/lib/common.sh" "$HERE/lib/config-info.mjs" "$stage/lib/"
  cp "$HERE/systemd/sentinela-$program.service" "$stage/systemd/"
  cp "$REPO/examples/$program.yaml" "$stage/examples/"
  [ -f "$REPO/docs/operations.md" ] && cp "$REPO/docs/operations.md" "$stage/docs/"
  chmod 0755 "$stage/install.sh"
  cat > "$stage/release.env" <<ENV
# Written by installers/build.sh. Read by install.sh.
PROGRAM=$program
VERSION=$VERSION
ARCH=$ARCH
NODE_ABI=$NODE_ABI
NODE_MAJOR=$NODE_MAJOR
NODE_MIN=$NODE_MIN
BUILT_WITH_NODE=$NODE_VERSION
COMMIT=$COMMIT
BUILT_AT=$(date -u +%Y-%m-%dT%H:%M:%SZ)
ENV
  sed -e "s/@PROGRAM@/$program/g" -e "s/@VERSION@/$VERSION/g" -e "s/@ARCH@/$ARCH/g" \
      -e "s/@NODE_MAJOR@/$NODE_MAJOR/g" -e "s/@NODE_MIN@/$NODE_MIN/g" -e "s/@NODE_ABI@/$NODE_ABI/g" \
      -e "s/@NODE_VERSION@/$NODE_VERSION/g" "$HERE/bundle-README.md" > "$stage/README.md"

  # 6. The archive, owned by root in the listing whoever built it.
  local archive="$OUT/$name.tar.gz"
  tar -C "$OUT/stage" --owner=0 --group=0 --numeric-owner -czf "$archive.tmp" "$name"
  mv "$archive.tmp" "$archive"
  say "$name: $(du -h "$archive" | cut -f1) → $archive"
  echo "$archive"
}

for p in "${PROGRAMS[@]}"; do
  case "$p" in agent|hub) build_one "$p" ;; *) echo "build.sh: unknown program $p" >&2; exit 2 ;; esac
done
