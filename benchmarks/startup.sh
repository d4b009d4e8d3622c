#!/usr/bin/env bash
# Start-up of the command line, measured side by side in one run (docs/benchmarks.md, "Start-up").
# Each configuration adds one lever to the one before; each number is the median of N wall-clock runs.
#   benchmarks/startup.sh [N] [DUMP]      N default 7; DUMP: a ~200-device lspci -vvv dump
#                                          (default: ../shared/topologies/real/dell-r730-...txt)
# Needs a build (./peerdma --build once). Prints a table; changes nothing outside a temporary cache.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
n=${1:-7}
dump=${2:-}
if [ -z "$dump" ]; then
  for d in "$here/../shared" /work/shared; do
    f="$d/topologies/real/dell-r730-broadwell-ep-2xp100-nvme.txt"
    [ -f "$f" ] && dump=$f && break
  done
fi
[ -f "$dump" ] || { echo "startup.sh: no dump (give one: startup.sh N FILE)" >&2; exit 66; }
L="$here/launcher/target"
cp="$L/peerdma-launcher-0.1.0-SNAPSHOT.jar:$L/lib/org.apache.felix.framework.jar:$L/lib/org.peerdma.xen.hv.jar:$L/lib/picocli.jar"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
ms() { local s e; s=$(date +%s%N); "$@" > /dev/null 2>&1 < /dev/null || true; e=$(date +%s%N); echo $(( (e - s) / 1000000 )); }
run() { # label, then the command; N runs after one warm-up
  local label=$1; shift
  ms "$@" > /dev/null
  local m; m=$(for i in $(seq "$n"); do ms "$@"; done | median)
  printf '%-72s %6d ms\n' "$label" "$m"
}
ours() { # extra JVM flags... -- launcher args
  local flags=()
  while [ "$1" != "--" ]; do flags+=("$1"); shift; done
  shift
  PEERDMA_CACHE="$tmp/cache" java "${flags[@]}" -Dpeerdma.home="$here" -cp "$cp" org.peerdma.launcher.Main "$@"
}
fresh() { rm -rf "$tmp/cache"; ours "$@"; }

bdf1=81:00.0; bdf2=82:00.0
echo "one-shot 'check $bdf1 $bdf2' on $(basename "$dump") ($(grep -c -E '^[0-9a-f]{2}:[0-9a-f]{2}\.[0-7] ' "$dump") devices), median of $n, $(nproc) cores"
run "1. before: bnd launcher, every module, fresh cache, full JIT (piped to gosh)" \
  bash -c "echo 'echo (p2p:check $bdf1 $bdf2)' | java -Dpeerdma.topology='$dump' -jar '$here/runconfigs/target/default.jar'"
run "2. peerdma launcher, every module (--run default), fresh cache" fresh -- --run default check $bdf1 $bdf2 --topology "$dump"
run "3. + the lean doctor runtime" fresh -- check $bdf1 $bdf2 --topology "$dump"
ours -- check $bdf1 $bdf2 --topology "$dump" > /dev/null 2>&1 || true
run "4. + kept bundle cache" ours -- check $bdf1 $bdf2 --topology "$dump"
run "5. + C1 only, serial GC" ours -XX:TieredStopAtLevel=1 -XX:+UseSerialGC -- check $bdf1 $bdf2 --topology "$dump"
jsa="$tmp/oneshot.jsa"
ours -XX:ArchiveClassesAtExit="$jsa" -XX:TieredStopAtLevel=1 -XX:+UseSerialGC -- check $bdf1 $bdf2 --topology "$dump" > /dev/null 2>&1 || true
run "6. + class-data archive (what ./peerdma check runs)" ours -XX:SharedArchiveFile="$jsa" -Xlog:cds=off -XX:TieredStopAtLevel=1 -XX:+UseSerialGC -- check $bdf1 $bdf2 --topology "$dump"

echo
echo "the shell on the sample machine until the prompt (input 'exit': start to exit, the prompt comes ~50 ms before)"
run "1. before: bnd launcher, every module, fresh cache, full JIT" \
  bash -c "echo 'gosh:exit' | java -Dpeerdma.topology=sample -jar '$here/runconfigs/target/default.jar'"
run "2. peerdma launcher, kept cache, full JIT" bash -c "echo exit | PEERDMA_CACHE='$tmp/cache' java -Dpeerdma.home='$here' -cp '$cp' org.peerdma.launcher.Main --topology sample"
run "3. + C1 only" bash -c "echo exit | PEERDMA_CACHE='$tmp/cache' java -XX:TieredStopAtLevel=1 -Dpeerdma.home='$here' -cp '$cp' org.peerdma.launcher.Main --topology sample"
sjsa="$tmp/shell.jsa"
echo exit | PEERDMA_CACHE="$tmp/cache" java -XX:ArchiveClassesAtExit="$sjsa" -XX:TieredStopAtLevel=1 -Dpeerdma.home="$here" -cp "$cp" org.peerdma.launcher.Main --topology sample > /dev/null 2>&1 || true
run "4. + class-data archive (what ./peerdma runs)" bash -c "echo exit | PEERDMA_CACHE='$tmp/cache' java -XX:SharedArchiveFile='$sjsa' -Xlog:cds=off -XX:TieredStopAtLevel=1 -Dpeerdma.home='$here' -cp '$cp' org.peerdma.launcher.Main --topology sample"
if command -v tmux > /dev/null 2>&1; then
  sock="$tmp/tmux"
  prompt() {
    tmux -S "$sock" kill-server 2>/dev/null || true
    tmux -S "$sock" new-session -d -x 200 -y 50
    sleep 0.3
    local s e
    s=$(date +%s%N)
    tmux -S "$sock" send-keys "PEERDMA_CACHE='$tmp/cache' '$here/peerdma' --no-build --topology sample" Enter
    for _ in $(seq 400); do
      tmux -S "$sock" capture-pane -p | grep -q '^g!' && break
      sleep 0.01
    done
    e=$(date +%s%N)
    tmux -S "$sock" send-keys "exit" Enter
    sleep 0.5
    tmux -S "$sock" kill-server 2>/dev/null || true
    echo $(( (e - s) / 1000000 ))
  }
  prompt > /dev/null; prompt > /dev/null
  m=$(for i in $(seq "$n"); do prompt; done | median)
  printf '%-72s %6d ms\n' "5. ./peerdma on a terminal (tmux) until the g! prompt shows" "$m"
fi
