#!/usr/bin/env bash
# Idempotent setup for a fresh machine: system packages only when missing, the virtual
# env, pinned Python packages, and the JVM artifacts (Kafka broker via Maven, delta-spark and
# the Spark Kafka source via Spark's own package resolution). Every download is cached under
# .afl/cache (ignored by git), so a second run does no network work.
set -euo pipefail
cd "$(dirname "$0")/.."

ROOT=$PWD
CACHE=${AFL_CACHE_DIR:-$ROOT/.afl/cache}
VENV=$ROOT/.venv
export PIP_CACHE_DIR=$CACHE/pip
mkdir -p "$CACHE"

say() { printf '[setup] %s\n' "$*" >&2; }

as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

apt_install() {
  say "installing Debian packages: $*"
  as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" >/dev/null
}

# -- system packages (Debian), only what is missing ------------------------------------
missing=()
command -v java >/dev/null 2>&1 || missing+=(openjdk-17-jre-headless)
command -v mvn >/dev/null 2>&1 || missing+=(maven)
PYTHON=$(command -v python3.11 || true)
if [ -z "$PYTHON" ] && python3 -c 'import sys; sys.exit(sys.version_info[:2] != (3, 11))' 2>/dev/null; then
  PYTHON=$(command -v python3)
fi
[ -n "$PYTHON" ] || missing+=(python3.11 python3.11-venv)
if [ "${AFL_SETUP_POSTGRES:-0}" = 1 ] && ! [ -x "$(ls -d /usr/lib/postgresql/*/bin/pg_ctl 2>/dev/null | tail -n1)" ]; then
  missing+=(postgresql)
fi
if [ "${AFL_SETUP_BROWSER:-0}" = 1 ] && ! command -v chromium >/dev/null 2>&1; then
  missing+=(chromium)
fi
if [ ${#missing[@]} -gt 0 ]; then apt_install "${missing[@]}"; fi
PYTHON=${PYTHON:-$(command -v python3.11)}

java_major=$(java -XshowSettings:properties -version 2>&1 | awk -F'= ' '/java.specification.version/ {print $2}')
if [ "${java_major%%.*}" -lt 17 ]; then
  say "Java 17 or newer is needed (found $java_major); set JAVA_HOME to a JDK 17+"; exit 1
fi

# -- virtual env and pinned Python packages --------------------------------------------
if [ ! -x "$VENV/bin/python" ]; then
  say "creating the virtual env in .venv"
  "$PYTHON" -m venv "$VENV"
fi
stamp=$VENV/.afl-installed
want=$(cat pyproject.toml constraints.txt | sha256sum | cut -c1-16)
if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
  say "installing Python packages (pinned by constraints.txt) ..."
  "$VENV/bin/python" -m pip install -q --upgrade pip
  "$VENV/bin/python" -m pip install -q -c constraints.txt -e '.[dev]'
  echo "$want" > "$stamp"
else
  say "Python packages up to date"
fi

# -- JVM artifacts -----------------------------------------------------------------------
"$VENV/bin/afl" infra fetch >&2
"$VENV/bin/afl" spark resolve >&2
say "ready"
