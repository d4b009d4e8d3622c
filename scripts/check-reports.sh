#!/usr/bin/env bash
# Count the test reports of the build: Surefire's (unit and system tests) and the bnd tester's
# (in-framework tests, bundles/*/target/test-reports). Fails when the in-framework tests did not run
# (a JUnit/tester mismatch runs 0 tests and leaves Maven green: see shared/BUILD-NOTES.md), when no
# unit or system test ran, or when any report holds a failure or an error.
set -euo pipefail
shopt -s globstar nullglob
ut=0; st=0; it=0; bad=0
for f in bundles/*/target/surefire-reports/TEST-*.xml launcher/target/surefire-reports/TEST-*.xml; do
  ut=$((ut + $(grep -o '<testcase ' "$f" | wc -l)))
done
for f in systemtests/target/surefire-reports/TEST-*.xml; do st=$((st + $(grep -o '<testcase ' "$f" | wc -l))); done
for f in bundles/*/target/test-reports/**/TEST-*.xml; do it=$((it + $(grep -o '<testcase ' "$f" | wc -l))); done
for f in bundles/*/target/surefire-reports/TEST-*.xml launcher/target/surefire-reports/TEST-*.xml \
         systemtests/target/surefire-reports/TEST-*.xml bundles/*/target/test-reports/**/TEST-*.xml; do
  bad=$((bad + $(grep -c -E '<(failure|error)[ >]' "$f" || true)))
done
echo "unit tests: $ut run; in-framework tests: $it run; system tests: $st run; $bad failed"
if [ "$it" -eq 0 ] || [ "$ut" -eq 0 ] || [ "$st" -eq 0 ] || [ "$bad" -ne 0 ]; then
  echo "peerdma: FAILED: the unit, in-framework or system tests did not run, or failed" >&2; exit 1
fi
echo "$((ut + it + st)) passed, 0 failed"
