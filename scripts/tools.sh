#!/usr/bin/env bash
# Sourced by ./peerdma, ./test and .ci/run: make sure JDK 17 and Maven are there, installing them
# from Debian's packages when missing (the build needs JDK 17: see shared/BUILD-NOTES.md).
set -euo pipefail

need_install=()
java17() {
  for j in "${JAVA_HOME:-}" /usr/lib/jvm/java-17-openjdk-amd64 /usr/lib/jvm/java-17-openjdk-arm64 /usr/lib/jvm/java-17-openjdk; do
    if [ -n "$j" ] && [ -x "$j/bin/java" ] && "$j/bin/java" -version 2>&1 | grep -q '"17\.'; then
      echo "$j"; return 0
    fi
  done
  if command -v java >/dev/null 2>&1 && java -version 2>&1 | grep -q '"17\.'; then
    dirname "$(dirname "$(readlink -f "$(command -v java)")")"; return 0
  fi
  return 1
}
if ! JH=$(java17); then need_install+=(openjdk-17-jdk-headless); fi
if ! command -v mvn >/dev/null 2>&1; then need_install+=(maven); fi
if [ ${#need_install[@]} -gt 0 ]; then
  echo "peerdma: installing ${need_install[*]} (Debian packages)" >&2
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq >&2
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need_install[@]}" >&2
  JH=$(java17)
fi
export JAVA_HOME="$JH"
export PATH="$JAVA_HOME/bin:$PATH"
