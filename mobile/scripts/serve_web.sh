#!/usr/bin/env bash
# Serves the web app next to the local API, so the whole product is at one URL in a browser.
# Installs the app's packages and builds dist/ when needed, then serves dist/ and passes /api/* to
# the API.
#
#   bash mobile/scripts/serve_web.sh [--port 8080] [--api http://127.0.0.1:8000] [-- CMD ARGS...]
#
# With `-- CMD ARGS...` (e.g. `-- .venv/bin/noticebot serve`) the web server runs in the background,
# CMD in the foreground, and the web server stops when CMD does: that is what `make run` uses.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

PORT=8080
API=http://127.0.0.1:8000
HOST=127.0.0.1
while [ $# -gt 0 ]; do
  case "$1" in
    --port) PORT="$2"; shift 2 ;;
    --api) API="$2"; shift 2 ;;
    --host) HOST="$2"; shift 2 ;;
    --) shift; break ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
done

need_node
npm_install
if web_is_stale; then
  echo "building the web app (expo export --platform web)…"
  export_web > /tmp/noticebot-web-export.log 2>&1 || { cat /tmp/noticebot-web-export.log; exit 1; }
fi

serve=(node "$MOBILE_DIR/scripts/serve-web.mjs" --dir "$MOBILE_DIR/dist" --host "$HOST" --port "$PORT" --api "$API")
if [ $# -eq 0 ]; then
  exec "${serve[@]}"
fi

"${serve[@]}" &
WEB_PID=$!
echo "open http://$HOST:$PORT and sign in with the dev token printed below"
cd "$REPO_DIR"
"$@" &
CMD_PID=$!
cleanup() { kill "$CMD_PID" "$WEB_PID" 2>/dev/null || true; wait 2>/dev/null || true; }
trap cleanup EXIT
trap 'exit 130' INT TERM
# Ends when the command ends (or on Ctrl-C); the web server goes with it.
wait "$CMD_PID"
