#!/usr/bin/env bash
# Creates the stack's secrets once (kept if they exist): the bearer tokens
# ragline admits, one for Prometheus's scrapes of /metrics and one for
# people reading the scorecard pages. Files are readable by their owner
# only and never committed (docker/secrets/ is ignored).
set -euo pipefail
cd "$(dirname "$0")"
umask 077
mkdir -p secrets
for name in ragline-metrics-token ragline-read-token; do
  if [ -s "secrets/$name" ]; then
    echo "secrets/$name: kept"
  else
    od -An -N32 -tx1 /dev/urandom | tr -d ' \n' > "secrets/$name"
    echo "secrets/$name: created"
  fi
done
# The files are mounted into the containers, whose users differ from yours.
chmod 644 secrets/ragline-metrics-token secrets/ragline-read-token
echo "read the scorecard pages with: curl -H \"Authorization: Bearer \$(cat docker/secrets/ragline-read-token)\" http://127.0.0.1:9464/scorecard"
