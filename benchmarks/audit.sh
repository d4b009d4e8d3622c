#!/usr/bin/env bash
# Fleet audit throughput (docs/benchmarks.md, "Fleet audit"): N machines of about 200 devices each, half
# the Dell R730 lspci -vvv dump (201 functions), half the ASUS ESC8000A paste (198: tree + -vvv +
# lscpu), every file its own machine (a distinct CASE line, and the ACS redirect bits of one switch
# port flipped on every other Dell copy, so the machines are not all alike), audited against
# examples/policy.yaml by ./peerdma audit with every core.
#   benchmarks/audit.sh [N]               N default 10000; needs ~1.5 GB of disk for N=10000 (in $TMPDIR)
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
n=${1:-10000}
real=""
for d in "$here/../shared" /work/shared; do
  [ -d "$d/topologies/real" ] && real="$d/topologies/real" && break
done
[ -n "$real" ] || { echo "audit.sh: shared/topologies/real not found" >&2; exit 66; }
fleet=$(mktemp -d)
trap 'rm -rf "$fleet"' EXIT
dell="$real/dell-r730-broadwell-ep-2xp100-nvme.txt"
asus="$real/asus-esc8000a-e12-genoa.txt"
redir=$(sed 's/ReqRedir- CmpltRedir-/ReqRedir+ CmpltRedir+/' "$dell")
echo "audit.sh: writing $n machines to $fleet ..." >&2
for i in $(seq "$n"); do
  d="$fleet/rack$((i / 100))"
  [ -d "$d" ] || mkdir -p "$d"
  case $((i % 4)) in
    0) { echo "# CASE: dell-$i"; cat "$dell"; } > "$d/m$i.txt" ;;
    1) { echo "# CASE: dell-$i"; printf '%s\n' "$redir"; } > "$d/m$i.txt" ;;
    *) { echo "# CASE: asus-$i"; cat "$asus"; } > "$d/m$i.txt" ;;
  esac
done
du -sh "$fleet" >&2
s=$(date +%s%N)
set +e
"$here/peerdma" --no-build audit "$fleet" --expect "$here/examples/policy.yaml" --quiet > "$fleet.out" 2> "$fleet.err"
rc=$?
set -e
e=$(date +%s%N)
secs=$(awk "BEGIN {print ($e - $s) / 1e9}")
tail -5 "$fleet.out"
grep -v '^audit: ' "$fleet.err" | head -5 >&2 || true
rm -f "$fleet.out" "$fleet.err"
printf 'audit of %d machines: %.1f s wall (%.0f machines/s), exit %d, %d cores\n' "$n" "$secs" \
  "$(awk "BEGIN {print $n / $secs}")" "$rc" "$(nproc)"
