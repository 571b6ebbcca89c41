#!/usr/bin/env bash
# The app's checks, from a fresh clone: npm ci, tsc --noEmit, jest (component and unit tests),
# the web export, and the Playwright e2e in Debian's Chromium against the real local API
# (started by e2e/global-setup.ts from ../.venv). Prints one closing line `N passed, N failed`
# for the whole run and exits non-zero when anything failed.
#
#   bash mobile/scripts/test.sh            # everything
#   SKIP_E2E=1 bash mobile/scripts/test.sh # no browser, no API (tsc + jest + export)
set -uo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$MOBILE_DIR"

PASSED=0
FAILED=0
REPORTS="$(mktemp -d)"
trap 'rm -rf "$REPORTS"' EXIT
START=$SECONDS

step() { echo; echo "=== $1 ==="; STEP_START=$SECONDS; }
took() { echo "--- $1 in $((SECONDS - STEP_START))s"; }
ok() { PASSED=$((PASSED + ${1:-1})); }
fail() { FAILED=$((FAILED + ${1:-1})); }
finish() {
  echo
  echo "mobile checks took $((SECONDS - START))s"
  echo "$PASSED passed, $FAILED failed"
  [ "$FAILED" -eq 0 ] && [ "$PASSED" -gt 0 ]
  exit $?
}

# Reads a jest --json or playwright json report: prints "passed failed".
count() {
  node -e '
    const r = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
    if (r.numTotalTests !== undefined) {
      const broken = r.numRuntimeErrorTestSuites || 0;
      console.log(r.numPassedTests, r.numFailedTests + broken);
    } else {
      const s = r.stats || {};
      console.log((s.expected || 0) + (s.flaky || 0), (s.unexpected || 0) + ((r.errors || []).length));
    }' "$1" 2>/dev/null || echo "0 1"
}

step "node and packages"
if ! need_node || ! npm_install; then
  echo "could not install the app's packages"
  fail; finish
fi
took "install"

step "typed routes and tsc --noEmit"
# expo-router writes .expo/types/router.d.ts (the typed routes) and expo-env.d.ts; both are generated.
CI=1 npx expo customize tsconfig.json >/dev/null 2>&1 < /dev/null || true
if npx tsc --noEmit; then ok; else echo "tsc found type errors"; fail; fi
took "tsc"

step "jest (component and unit tests)"
npx jest --ci --json --outputFile="$REPORTS/jest.json" 2>&1 | grep -v '^\s*$' | tail -n 40
if [ -f "$REPORTS/jest.json" ]; then
  read -r p f < <(count "$REPORTS/jest.json")
  PASSED=$((PASSED + p)); FAILED=$((FAILED + f))
  echo "jest: $p passed, $f failed"
else
  echo "jest wrote no report"; fail
fi
took "jest"

step "web export"
if export_web > "$REPORTS/export.log" 2>&1; then
  tail -n 3 "$REPORTS/export.log"; ok; EXPORTED=1
else
  cat "$REPORTS/export.log"; echo "expo export failed"; fail; EXPORTED=0
fi
took "export"

if [ "${SKIP_E2E:-0}" = "1" ]; then
  echo; echo "SKIP_E2E=1: the browser test was not run"
  finish
fi

step "e2e: Playwright + Debian Chromium against the real local API"
if [ "$EXPORTED" != "1" ]; then
  echo "no web build to test"; fail; finish
fi
if [ ! -x /usr/bin/chromium ]; then
  echo "installing Debian's chromium"
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  { $SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends chromium; } > "$REPORTS/apt.log" 2>&1 \
    || { tail -n 20 "$REPORTS/apt.log"; echo "could not install chromium"; fail; finish; }
fi
if [ -z "${NOTICEBOT_BIN:-}" ] && [ ! -x "$REPO_DIR/.venv/bin/noticebot" ]; then
  echo "the API is not installed yet: make -C $REPO_DIR install"
  make -C "$REPO_DIR" install || { echo "could not install the API"; fail; finish; }
fi
PLAYWRIGHT_JSON_OUTPUT_NAME="$REPORTS/e2e.json" npx playwright test -c e2e/playwright.config.ts --reporter=list,json
if [ -f "$REPORTS/e2e.json" ]; then
  read -r p f < <(count "$REPORTS/e2e.json")
  PASSED=$((PASSED + p)); FAILED=$((FAILED + f))
  [ "$((p + f))" -eq 0 ] && fail  # ran nothing: that is a failure too
  echo "e2e: $p passed, $f failed; screenshots in mobile/e2e/screenshots/"
else
  echo "playwright wrote no report"; fail
fi
took "e2e"

finish
