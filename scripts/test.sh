#!/usr/bin/env bash
# Set up a fresh machine and run the whole test suite: a virtual environment with the package and its test
# extras (PySpark among them: its first install downloads a ~430 MB source archive and takes about a minute),
# Debian's Chromium for the browser tests, Java 17 for the Spark tests, and the PostgreSQL and Mosquitto servers
# the tests use for real (started if they are not answering).
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
VENV=${PARKZERO_VENV:-.venv}

[ -x "$VENV/bin/python" ] || "$PY" -m venv "$VENV"
"$VENV/bin/pip" install -q --upgrade pip
"$VENV/bin/pip" install -q -e '.[test,browser,spark]'

# Spark (tests marked spark) runs in the JVM: PySpark 4.0 needs Java 17 or newer
if ! java -version >/dev/null 2>&1; then
  echo "java -version failed: the Spark tests need a Java 17 runtime on PATH" \
    "(Debian: apt-get install openjdk-17-jre-headless)" >&2
  exit 1
fi

if ! command -v chromium >/dev/null 2>&1 || [ -z "$(fc-list :lang=zh family 2>/dev/null)" ]; then
  echo "installing Debian's chromium and a Chinese font for the browser tests and the PDF reports" >&2
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq && $SUDO apt-get install -y -qq chromium fonts-noto-cjk >/dev/null
fi

answers() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
if ! answers 5432; then
  echo "starting PostgreSQL" >&2
  pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql)" main start
fi
if ! answers 1883; then
  echo "starting Mosquitto" >&2
  mosquitto -d -c /etc/mosquitto/mosquitto.conf
fi
for port in 5432 1883; do
  for _ in $(seq 1 30); do answers "$port" && break; sleep 1; done
  answers "$port" || { echo "nothing answers on 127.0.0.1:$port" >&2; exit 1; }
done

exec "$VENV/bin/python" -m pytest "$@"
