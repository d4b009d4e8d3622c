#!/usr/bin/env bash
# Fallback report check without python3: count <testcase> entries and failure/error elements.
set -euo pipefail
shopt -s globstar nullglob
ut=0; it=0; bad=0
for f in bundles/*/target/surefire-reports/TEST-*.xml; do ut=$((ut + $(grep -o '<testcase ' "$f" | wc -l))); done
for f in bundles/*/target/test-reports/**/TEST-*.xml; do it=$((it + $(grep -o '<testcase ' "$f" | wc -l))); done
for f in bundles/*/target/surefire-reports/TEST-*.xml bundles/*/target/test-reports/**/TEST-*.xml; do
  bad=$((bad + $(grep -c -E '<(failure|error)[ >]' "$f" || true)))
done
echo "unit tests: $ut run; in-framework tests: $it run; $bad failed"
if [ "$it" -eq 0 ] || [ "$ut" -eq 0 ] || [ "$bad" -ne 0 ]; then
  echo "peerdma: FAILED: the in-framework or unit tests did not run, or failed" >&2; exit 1
fi
echo "$((ut + it)) passed, 0 failed"
