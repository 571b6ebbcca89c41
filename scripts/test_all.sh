#!/usr/bin/env bash
# The whole suite: Python (pytest) then the app's checks (mobile/scripts/test.sh).
# Both always run; the last line counts both, in the form CI reads: `N passed, N failed`.
set -uo pipefail
cd "$(dirname "$0")/.."
PY=${PY:-.venv/bin/python}
log=$(mktemp)
trap 'rm -f "$log"' EXIT

"$PY" -m pytest "$@" 2>&1 | tee "$log"
py_rc=${PIPESTATUS[0]}
summary=$(grep -E '^=+ .*(passed|failed|error).* in [0-9.]+s' "$log" | tail -1)
py_passed=$(grep -oE '[0-9]+ passed' <<<"$summary" | grep -oE '[0-9]+' || echo 0)
py_failed=$(( $(grep -oE '[0-9]+ failed' <<<"$summary" | grep -oE '[0-9]+' || echo 0) \
            + $(grep -oE '[0-9]+ errors?' <<<"$summary" | grep -oE '[0-9]+' || echo 0) ))
if [ "$py_rc" -ne 0 ] && [ "$py_failed" -eq 0 ]; then py_failed=1; fi

# The AWS app synthesized through the pinned CDK CLI, offline, as the pipeline does.
echo "=== cdk synth (CLI) ==="
if make --no-print-directory synth; then synth_passed=1; synth_failed=0; else synth_passed=0; synth_failed=1; fi
py_passed=$((py_passed + synth_passed)); py_failed=$((py_failed + synth_failed))
[ "$synth_failed" -eq 0 ] || py_rc=1

mlog=$(mktemp)
bash mobile/scripts/test.sh 2>&1 | tee "$mlog"
m_rc=${PIPESTATUS[0]}
m_line=$(grep -E '^[0-9]+ passed, [0-9]+ failed$' "$mlog" | tail -1)
m_passed=$(cut -d' ' -f1 <<<"${m_line:-0 passed, 1 failed}")
m_failed=$(cut -d' ' -f3 <<<"${m_line:-0 passed, 1 failed}")
if [ "$m_rc" -ne 0 ] && [ "$m_failed" -eq 0 ]; then m_failed=1; fi
rm -f "$mlog"

echo
echo "python + cdk synth: $py_passed passed, $py_failed failed; app: $m_passed passed, $m_failed failed"
echo "$((py_passed + m_passed)) passed, $((py_failed + m_failed)) failed"
[ "$py_rc" -eq 0 ] && [ "$m_rc" -eq 0 ]
