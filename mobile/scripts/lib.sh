# Shared by test.sh and serve_web.sh: install the app's packages (npm ci, skipped when the lockfile is
# unchanged since the last install) and build the web app (skipped when dist/ is newer than the sources).

MOBILE_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
REPO_DIR="$(cd "$MOBILE_DIR/.." && pwd)"
export EXPO_NO_TELEMETRY=1
export NPM_CONFIG_FUND=false NPM_CONFIG_AUDIT=false NPM_CONFIG_UPDATE_NOTIFIER=false

need_node() {
  if ! command -v node >/dev/null 2>&1; then
    echo "node is not installed (Node 20 is needed; see ../shared/TOOLCHAIN.md)" >&2
    return 1
  fi
  local major
  major="$(node -p 'process.versions.node.split(".")[0]')"
  if [ "$major" -lt 20 ]; then
    echo "Node $(node --version) is too old; Node 20 is needed" >&2
    return 1
  fi
}

npm_install() {
  local stamp="$MOBILE_DIR/node_modules/.noticebot-lock.sha256" want
  want="$(sha256sum "$MOBILE_DIR/package-lock.json" | cut -d' ' -f1)"
  if [ "${FORCE_NPM_CI:-0}" != "1" ] && [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then
    echo "node_modules matches package-lock.json; skipping npm ci (FORCE_NPM_CI=1 to reinstall)"
    return 0
  fi
  (cd "$MOBILE_DIR" && npm ci --no-audit --no-fund) && echo "$want" > "$stamp"
}

web_is_stale() {
  local index="$MOBILE_DIR/dist/index.html"
  [ -f "$index" ] || return 0
  [ -n "$(cd "$MOBILE_DIR" && find app app.json package-lock.json babel.config.js -newer "$index" -print -quit 2>/dev/null)" ]
}

export_web() {
  (cd "$MOBILE_DIR" && rm -rf dist && CI=1 npx expo export --platform web --output-dir dist)
}
