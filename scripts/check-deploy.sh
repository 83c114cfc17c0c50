#!/usr/bin/env bash
# Static checks of the deployment in docker/, without a Docker engine:
#
#   ./scripts/check-deploy.sh
#
# - promtool check rules / test rules / check config (Prometheus rules, their
#   unit tests, prometheus.yml), and the dashboard's PromQL parsed by promtool;
# - amtool check-config (Alertmanager), when Debian's amtool can be had;
# - every YAML and JSON file under docker/ parses; the Grafana dashboard and
#   provisioning hold together (uids, variables, RAG mappings, mount paths);
# - metric names used by rules and dashboard belong to ragline's contract;
# - every alert has a firing and a not-firing unit test;
# - docker-compose.yml: build context, Dockerfile, bind mounts, volumes,
#   depends_on, the scrape and alerting targets against service names;
#   docker-compose.scale-out.yml: two instances, each with its own state;
# - the Dockerfile's COPY sources exist and survive Dockerfile.dockerignore,
#   and what the crate includes at build time (include_str!, targets) is in
#   them;
# - shell scripts under docker/ parse (bash -n; shellcheck when installed);
# - `docker compose config -q`, only when `docker compose version` works.
#
# Installs what it needs when missing (apt-get: prometheus for promtool,
# prometheus-alertmanager for amtool, python3-yaml or pip's pyyaml), without
# the recommended extras, and stops the services Debian starts with them so
# that they do not hold ports 9090/9093 needed by the compose stack.
# Idempotent; about 10 seconds once the packages are installed. Exits
# non-zero, naming each failed check, when anything fails.
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1

failures=()
ok() { printf 'check-deploy: ok    %s\n' "$1"; }
skip() { printf 'check-deploy: skip  %s\n' "$1"; }
fail() { printf 'check-deploy: FAIL  %s\n' "$1" >&2; failures+=("$1"); }
# check NAME COMMAND...: run, show the output indented when it fails.
check() {
  local name="$1" output
  shift
  if output=$("$@" 2>&1); then
    ok "$name"
  else
    fail "$name"
    printf '%s\n' "$output" | sed 's/^/    /' >&2
  fi
}

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# ---------------------------------------------------------------- tools
SUDO=""
if [ "$(id -u)" -ne 0 ] && command -v sudo >/dev/null 2>&1; then SUDO="sudo"; fi
apt_updated=""
apt_install() {
  command -v apt-get >/dev/null 2>&1 || return 1
  if [ -z "$apt_updated" ]; then
    $SUDO apt-get update -qq >/dev/null 2>&1 || true
    apt_updated=1
  fi
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "$@" >/dev/null 2>&1 || return 1
  # Debian starts the daemons on systemd machines: stop and disable them.
  if [ -d /run/systemd/system ]; then
    local package
    for package in "$@"; do
      case "$package" in
        prometheus | prometheus-alertmanager)
          $SUDO systemctl disable --now "$package.service" >/dev/null 2>&1 || true ;;
      esac
    done
  fi
}

if ! command -v promtool >/dev/null 2>&1; then
  echo "check-deploy: installing prometheus (for promtool)" >&2
  apt_install prometheus || true
fi
if ! command -v promtool >/dev/null 2>&1; then
  fail "promtool available (apt-get install prometheus failed)"
  echo "check-deploy: cannot continue without promtool" >&2
  exit 1
fi
if ! command -v amtool >/dev/null 2>&1 && apt-cache show prometheus-alertmanager >/dev/null 2>&1; then
  echo "check-deploy: installing prometheus-alertmanager (for amtool)" >&2
  apt_install prometheus-alertmanager || true
fi
if ! python3 -c 'import yaml' >/dev/null 2>&1; then
  echo "check-deploy: installing PyYAML" >&2
  apt_install python3-yaml || python3 -m pip install --quiet --user pyyaml >/dev/null 2>&1 ||
    python3 -m pip install --quiet pyyaml >/dev/null 2>&1 || true
fi
if ! python3 -c 'import yaml' >/dev/null 2>&1; then
  fail "PyYAML available for python3 (apt-get install python3-yaml or pip install pyyaml failed)"
  exit 1
fi

# ------------------------------------------------------------ Prometheus
check "promtool check rules docker/prometheus/rules.yml" \
  promtool check rules docker/prometheus/rules.yml
check "promtool test rules docker/prometheus/rules_test.yml docker/prometheus/rules_test_7d.yml" \
  promtool test rules docker/prometheus/rules_test.yml docker/prometheus/rules_test_7d.yml
# Host names in targets (ragline, alertmanager) are not resolved by promtool;
# rule_files are relative to the file, as in the container. promtool wants
# the token file to exist: checked on a copy whose /run/secrets/ points at a
# scratch directory.
promtool_copy() {
  local scratch
  scratch="$(mktemp -d)"
  cp docker/prometheus/*.yml "$scratch/"
  echo "scratch-token" >"$scratch/ragline-metrics-token"
  sed -i "s#/run/secrets/#$scratch/#" "$scratch/prometheus.yml"
  promtool check config "$scratch/prometheus.yml"
  local status=$?
  rm -rf "$scratch"
  return $status
}
check "promtool check config docker/prometheus/prometheus.yml" promtool_copy

# ----------------------------------------------------------- Alertmanager
if command -v amtool >/dev/null 2>&1; then
  check "amtool check-config docker/alertmanager/alertmanager.yml" \
    amtool check-config docker/alertmanager/alertmanager.yml
else
  skip "amtool check-config (no amtool: Debian's prometheus-alertmanager is not installable here)"
fi

# ------------------------------------------- files, compose, Docker build
check "YAML/JSON parse; dashboard, provisioning, compose, Dockerfile and contract checks" \
  python3 - "$tmp" <<'PY'
import fnmatch
import json
import os
import re
import sys
import tomllib

import yaml

tmp = sys.argv[1]
errors = []


def error(message):
    errors.append(message)


def load_yaml(path):
    try:
        with open(path) as f:
            return yaml.safe_load(f)
    except Exception as e:  # noqa: BLE001 - report any parse failure
        error(f"{path}: does not parse as YAML: {e}")
        return None


# Every YAML and JSON file under docker/ parses.
for root, _, files in os.walk("docker"):
    for name in sorted(files):
        path = os.path.join(root, name)
        if name.endswith((".yml", ".yaml")):
            load_yaml(path)
        elif name.endswith(".json"):
            try:
                with open(path) as f:
                    json.load(f)
            except Exception as e:  # noqa: BLE001
                error(f"{path}: does not parse as JSON: {e}")

# ---------------------------------------------------------------- contract
HISTOGRAMS = {"ragline_event_to_output_latency_seconds", "ragline_batch_duration_seconds",
              "ragline_commit_duration_seconds"}
CONTRACT = {
    "scorecard_indicator_value", "scorecard_indicator_numerator", "scorecard_indicator_denominator",
    "scorecard_indicator_target", "scorecard_indicator_floor", "scorecard_indicator_rag",
    "ragline_messages_consumed_total", "ragline_events_applied_total", "ragline_events_duplicate_total",
    "ragline_events_rejected_total", "ragline_outputs_produced_total", "ragline_restatements_total",
    "ragline_batches_total", "ragline_anomalies", "ragline_consumer_lag_messages",
    "ragline_event_time_lag_seconds", "ragline_state_size_bytes", "ragline_month_last_closed_timestamp_seconds",
    "ragline_last_batch_timestamp_seconds", "ragline_outbox_pending_records",
    "ragline_current_date_timestamp_seconds", "ragline_state_messages",
    "ragline_outbox_parked_records", "ragline_kafka_errors_total",
    "ragline_input_partitions_assigned", "ragline_input_retention_gap",
} | {h + s for h in HISTOGRAMS for s in ("_bucket", "_sum", "_count")}
METRIC_TOKEN = re.compile(r"(?<![\w:])(?:scorecard|ragline)_[a-z0-9_]+")


def check_metric_names(where, expr):
    for name in METRIC_TOKEN.findall(expr):
        if name not in CONTRACT:
            error(f"{where}: metric {name} is not in ragline's metrics contract")


# ------------------------------------------------------------------ rules
REQUIRED_ALERTS = {"IndicatorTurnedRed", "IndicatorRedForLong", "ConsumerLagHigh", "RejectionsRising",
                   "ProcessingStalled", "RaglineDown"}
rules = load_yaml("docker/prometheus/rules.yml") or {}
alerts = {}
for group in rules.get("groups", []):
    if group.get("name") != "ragline":
        error(f"rules.yml: unexpected group {group.get('name')!r} (expected ragline)")
    for rule in group.get("rules", []):
        name = rule.get("alert") or rule.get("record")
        check_metric_names(f"rules.yml {name}", rule.get("expr", ""))
        for text in (rule.get("annotations") or {}).values():
            check_metric_names(f"rules.yml {name} annotation", text)
        if "alert" in rule:
            alerts[rule["alert"]] = rule
for name in sorted(REQUIRED_ALERTS - alerts.keys()):
    error(f"rules.yml: alert {name} is missing")
for name, rule in sorted(alerts.items()):
    if "severity" not in (rule.get("labels") or {}):
        error(f"rules.yml: alert {name} has no severity label")
    if "summary" not in (rule.get("annotations") or {}):
        error(f"rules.yml: alert {name} has no summary annotation")

# Every alert is tested firing and not firing.
firing, quiet = set(), set()
for test_file in ("docker/prometheus/rules_test.yml", "docker/prometheus/rules_test_7d.yml"):
    tests = load_yaml(test_file) or {}
    for test in tests.get("tests", []):
        for series in test.get("input_series", []):
            check_metric_names(f"{test_file} input series", series.get("series", ""))
        for case in test.get("alert_rule_test", []):
            (firing if case.get("exp_alerts") else quiet).add(case.get("alertname"))
for name in sorted(alerts):
    if name not in firing:
        error(f"rules tests: no test where {name} fires")
    if name not in quiet:
        error(f"rules tests: no test where {name} does not fire")

# ------------------------------------------------------------- prometheus.yml
prom = load_yaml("docker/prometheus/prometheus.yml") or {}
scrape_targets = {}
for job in prom.get("scrape_configs", []):
    for static in job.get("static_configs", []):
        scrape_targets.setdefault(job.get("job_name"), []).extend(static.get("targets", []))
if scrape_targets.get("ragline") != ["ragline:9464"]:
    error(f"prometheus.yml: job ragline must scrape ragline:9464, has {scrape_targets.get('ragline')}")
ragline_job = next((j for j in prom.get("scrape_configs", []) if j.get("job_name") == "ragline"), {})
if ragline_job.get("scrape_interval") not in (None, "15s") or (
        ragline_job.get("scrape_interval") is None and prom.get("global", {}).get("scrape_interval") != "15s"):
    error("prometheus.yml: ragline must be scraped every 15s")
for rule_file in prom.get("rule_files", []):
    if not os.path.exists(os.path.join("docker/prometheus", rule_file)):
        error(f"prometheus.yml: rule file {rule_file} not found next to it")
am_targets = [t for a in prom.get("alerting", {}).get("alertmanagers", [])
              for s in a.get("static_configs", []) for t in s.get("targets", [])]
if not am_targets:
    error("prometheus.yml: no alertmanager target")

# ---------------------------------------------------------------- Grafana
datasources = load_yaml("docker/grafana/provisioning/datasources/prometheus.yml") or {}
ds_uids = {d.get("uid"): d for d in datasources.get("datasources", [])}
if ds_uids.get("prometheus", {}).get("type") != "prometheus":
    error("grafana datasources: no prometheus datasource with uid prometheus")
elif ds_uids["prometheus"].get("url") != "http://prometheus:9090":
    error("grafana datasources: prometheus url should be http://prometheus:9090")
providers = load_yaml("docker/grafana/provisioning/dashboards/ragline.yml") or {}
provider_paths = [p.get("options", {}).get("path") for p in providers.get("providers", [])]
if not provider_paths or None in provider_paths:
    error("grafana dashboards provisioning: no provider path")

dashboard_path = "docker/grafana/dashboards/ragline.json"
try:
    with open(dashboard_path) as f:
        dashboard = json.load(f)
except Exception:  # noqa: BLE001 - reported above
    dashboard = {}
if dashboard.get("uid") != "ragline":
    error(f"{dashboard_path}: uid must be ragline")
if not isinstance(dashboard.get("schemaVersion"), int) or dashboard["schemaVersion"] < 36:
    error(f"{dashboard_path}: schemaVersion must be >= 36")
variables = {v.get("name"): v for v in dashboard.get("templating", {}).get("list", [])}
for name in ("unit", "indicator"):
    query = variables.get(name, {}).get("definition", "")
    if not query.startswith("label_values("):
        error(f"{dashboard_path}: variable {name} must come from label_values(...)")


def all_panels(panels):
    for panel in panels:
        yield panel
        yield from all_panels(panel.get("panels", []))


def datasource_uses(node, where):
    if isinstance(node, dict):
        ds = node.get("datasource")
        if isinstance(ds, dict) and ds.get("type") not in ("grafana", "datasource"):
            if ds.get("uid") not in ds_uids or ds.get("uid") != "prometheus" and ds.get("type") == "prometheus":
                error(f"{dashboard_path}: {where}: datasource {ds} is not the provisioned uid prometheus")
        elif isinstance(ds, str):
            error(f"{dashboard_path}: {where}: datasource referenced by name {ds!r}, not by uid")
        for value in node.values():
            datasource_uses(value, where)
    elif isinstance(node, list):
        for value in node:
            datasource_uses(value, where)


panel_ids = []
exprs = []
has_rag_mapping = False
for panel in all_panels(dashboard.get("panels", [])):
    where = f"panel {panel.get('id')} {panel.get('title')!r}"
    panel_ids.append(panel.get("id"))
    if "gridPos" not in panel:
        error(f"{dashboard_path}: {where} has no gridPos")
    datasource_uses(panel, where)
    if panel.get("type") != "row" and not panel.get("targets"):
        error(f"{dashboard_path}: {where} has no query")
    for target in panel.get("targets", []):
        expr = target.get("expr", "")
        if not expr:
            error(f"{dashboard_path}: {where} target {target.get('refId')} has no expr")
        exprs.append((where, expr))
    mappings = json.dumps(panel.get("fieldConfig", {}))
    if all(f'"{v}": {{"text": "{t}"' in mappings for v, t in (("0", "Green"), ("1", "Amber"), ("2", "Red"))):
        has_rag_mapping = True
datasource_uses(dashboard.get("templating", {}), "templating")
duplicates = {i for i in panel_ids if panel_ids.count(i) > 1}
if duplicates:
    error(f"{dashboard_path}: duplicate panel ids {sorted(duplicates)}")
if not has_rag_mapping:
    error(f"{dashboard_path}: no panel maps RAG 0/1/2 to Green/Amber/Red")
for needle in ("scorecard_indicator_rag", "scorecard_indicator_value", "scorecard_indicator_target",
               "scorecard_indicator_floor", "histogram_quantile", "ragline_consumer_lag_messages",
               "ragline_events_rejected_total", "ragline_state_size_bytes", "ragline_outbox_pending_records",
               "ragline_month_last_closed_timestamp_seconds", "ragline_batch_duration_seconds_bucket",
               "ragline_commit_duration_seconds_bucket", "ragline_event_to_output_latency_seconds_bucket"):
    if not any(needle in e for _, e in exprs):
        error(f"{dashboard_path}: no panel queries {needle}")

# The dashboard's PromQL, with Grafana's variables substituted, as recording
# rules for promtool to parse.
def substitute(expr):
    expr = re.sub(r"\$__(rate_interval|interval|range)|\$\{__(rate_interval|interval|range)\}", "5m", expr)
    return re.sub(r"\$\{?\w+(?::\w+)?\}?", ".*", expr)


records = []
for i, (where, expr) in enumerate(exprs):
    check_metric_names(f"{dashboard_path}: {where}", expr)
    records.append({"record": f"dashboard:expr:{i}", "expr": substitute(expr)})
for name, variable in variables.items():
    query = variable.get("definition", "")
    match = re.fullmatch(r"label_values\((.*),\s*\w+\)", query)
    if match:
        records.append({"record": f"dashboard:variable:{name}", "expr": substitute(match.group(1))})
with open(os.path.join(tmp, "dashboard-exprs.yml"), "w") as f:
    yaml.safe_dump({"groups": [{"name": "dashboard", "rules": records}]}, f)

# ----------------------------------------------------------- docker-compose
compose_path = "docker/docker-compose.yml"
compose_dir = os.path.dirname(compose_path)
compose = load_yaml(compose_path) or {}
services = compose.get("services", {})
for name in ("kafka", "kafka-init", "ragline", "prometheus", "alertmanager", "grafana"):
    if name not in services:
        error(f"{compose_path}: service {name} is missing")
declared_volumes = set((compose.get("volumes") or {}).keys())
mounts = {}  # service -> {container path: host path}
for name, service in services.items():
    where = f"{compose_path}: service {name}"
    build = service.get("build")
    if build is not None:
        if isinstance(build, str):
            build = {"context": build}
        context = os.path.normpath(os.path.join(compose_dir, build.get("context", ".")))
        if not os.path.isdir(context):
            error(f"{where}: build context {context} does not exist")
        dockerfile = os.path.normpath(os.path.join(context, build.get("dockerfile", "Dockerfile")))
        if not os.path.isfile(dockerfile):
            error(f"{where}: Dockerfile {dockerfile} does not exist")
        service["_context"], service["_dockerfile"] = context, dockerfile
    for env_file in ([service["env_file"]] if isinstance(service.get("env_file"), str) else service.get("env_file", [])):
        env_file = env_file if isinstance(env_file, str) else env_file.get("path")
        if not os.path.isfile(os.path.join(compose_dir, env_file)):
            error(f"{where}: env_file {env_file} does not exist")
    for volume in service.get("volumes", []):
        if isinstance(volume, dict):
            kind, source, target = volume.get("type"), volume.get("source"), volume.get("target")
        else:
            parts = volume.split(":")
            source, target = parts[0], parts[1] if len(parts) > 1 else parts[0]
            kind = "bind" if source.startswith((".", "/", "~")) else "volume"
        if kind == "bind":
            host = os.path.normpath(os.path.join(compose_dir, source))
            if not os.path.exists(host):
                error(f"{where}: bind mount source {source} ({host}) does not exist")
            mounts.setdefault(name, {})[target] = host
        elif kind == "volume" and source and source not in declared_volumes:
            error(f"{where}: named volume {source} is not declared under volumes:")
    depends = service.get("depends_on", [])
    for dependency in (depends.keys() if isinstance(depends, dict) else depends):
        if dependency not in services:
            error(f"{where}: depends_on unknown service {dependency}")
    healthcheck = service.get("healthcheck", {})
    for dependency, condition in (depends.items() if isinstance(depends, dict) else []):
        if condition.get("condition") == "service_healthy" and "healthcheck" not in services.get(dependency, {}):
            error(f"{where}: waits for {dependency} to be healthy but it has no healthcheck")


def host_path(service, container_path):
    """The host file behind a container path, through the service's bind mounts."""
    for target, host in sorted(mounts.get(service, {}).items(), key=lambda kv: -len(kv[0])):
        if container_path == target:
            return host
        if container_path.startswith(target.rstrip("/") + "/"):
            return os.path.join(host, os.path.relpath(container_path, target))
    return None


ragline = services.get("ragline", {})
environment = ragline.get("environment", {})
if isinstance(environment, list):
    environment = dict(e.split("=", 1) for e in environment)
if environment.get("RAGLINE_KAFKA_BROKERS") != "kafka:9092":
    error(f"{compose_path}: ragline must have RAGLINE_KAFKA_BROKERS=kafka:9092")
if environment.get("RAGLINE_HTTP_LISTEN") != "0.0.0.0:9464":
    error(f"{compose_path}: ragline must have RAGLINE_HTTP_LISTEN=0.0.0.0:9464")
if "healthz" not in json.dumps(ragline.get("healthcheck", {})):
    error(f"{compose_path}: ragline healthcheck should GET /healthz")
kafka_env = services.get("kafka", {}).get("environment", {})
if "kafka:9092" not in str(kafka_env.get("KAFKA_ADVERTISED_LISTENERS", "")):
    error(f"{compose_path}: kafka must advertise kafka:9092")
# The scale-out override: two instances, each with a state of its own.
scaled_path = "docker/docker-compose.scale-out.yml"
scaled = load_yaml(scaled_path) or {}
scaled_services = scaled.get("services", {})
scaled_volumes = declared_volumes | set((scaled.get("volumes") or {}).keys())
if set(scaled_services) != {"ragline", "ragline-2"}:
    error(f"{scaled_path}: should hold ragline and ragline-2, not {sorted(scaled_services)}")
for name, service in scaled_services.items():
    env = service.get("environment", {})
    if env.get("RAGLINE_SCALE_OUT_ENABLED") != "true":
        error(f"{scaled_path}: {name} must have RAGLINE_SCALE_OUT_ENABLED=true")
    for dependency in service.get("depends_on", {}) or {}:
        if dependency not in services and dependency not in scaled_services:
            error(f"{scaled_path}: {name} depends_on unknown service {dependency}")
    for volume in service.get("volumes", []) or []:
        source = volume.split(":", 1)[0]
        if not source.startswith((".", "/")) and source not in scaled_volumes:
            error(f"{scaled_path}: {name} uses undeclared volume {source}")
second = scaled_services.get("ragline-2", {})
if second.get("image") != ragline.get("image"):
    error(f"{scaled_path}: ragline-2 must run the image ragline builds")
if second.get("ports"):
    error(f"{scaled_path}: ragline-2 publishes no ports (it would clash with ragline's)")
if "healthz" not in json.dumps(second.get("healthcheck", {})):
    error(f"{scaled_path}: ragline-2 healthcheck should GET /healthz")
if (scaled_services.get("ragline", {}).get("healthcheck") or {}).get("disable"):
    error(f"{scaled_path}: scaled-out instances serve /healthz: keep ragline's health check")
if [v.split(":", 1)[0] for v in second.get("volumes", [])] == [v.split(":", 1)[0] for v in ragline.get("volumes", [])]:
    error(f"{scaled_path}: ragline-2 needs a state volume of its own")
# The scrape and alerting targets are services of the stack.
for target in scrape_targets.get("ragline", []) + am_targets:
    if target.split(":")[0] not in services:
        error(f"prometheus.yml: target {target} is not a service of {compose_path}")
# Prometheus sees its config and rules where its command says.
prom_command = " ".join(services.get("prometheus", {}).get("command", []))
match = re.search(r"--config\.file=(\S+)", prom_command)
config_in_container = match.group(1) if match else "/etc/prometheus/prometheus.yml"
mounted = host_path("prometheus", config_in_container)
if not mounted or os.path.realpath(mounted) != os.path.realpath("docker/prometheus/prometheus.yml"):
    error(f"{compose_path}: prometheus {config_in_container} is not docker/prometheus/prometheus.yml")
for rule_file in prom.get("rule_files", []):
    in_container = os.path.join(os.path.dirname(config_in_container), rule_file)
    if not (host_path("prometheus", in_container) and os.path.exists(host_path("prometheus", in_container))):
        error(f"{compose_path}: prometheus rule file {in_container} is not mounted")
am_command = " ".join(services.get("alertmanager", {}).get("command", []))
match = re.search(r"--config\.file=(\S+)", am_command)
am_config = host_path("alertmanager", match.group(1) if match else "/etc/alertmanager/alertmanager.yml")
if not am_config or not os.path.exists(am_config):
    error(f"{compose_path}: alertmanager config is not mounted from docker/alertmanager")
# Grafana sees its provisioning and the dashboard directory.
for container_path in ["/etc/grafana/provisioning/datasources", "/etc/grafana/provisioning/dashboards"] + provider_paths:
    if container_path and not host_path("grafana", container_path):
        error(f"{compose_path}: grafana {container_path} is not mounted")
for path in provider_paths:
    host = host_path("grafana", path or "")
    if host and not os.path.exists(os.path.join(host, "ragline.json")):
        error(f"{compose_path}: grafana dashboard provider path {path} does not hold ragline.json")
grafana_env = services.get("grafana", {}).get("environment", {})
if str(grafana_env.get("GF_AUTH_ANONYMOUS_ENABLED", "")).lower() != "false":
    error(f"{compose_path}: grafana anonymous access must be off")
# Required from the environment (${VAR:?message}), never a default.
if not re.fullmatch(r"\$\{[A-Z_]+:\?[^}]*\}", str(grafana_env.get("GF_SECURITY_ADMIN_PASSWORD", ""))):
    error(f"{compose_path}: grafana's admin password must come from the environment, with no default")
# Every published port listens on 127.0.0.1 only.
for name, service in services.items():
    for port in service.get("ports", []):
        if not str(port).startswith("127.0.0.1:"):
            error(f"{compose_path}: {name} publishes {port} on every interface; use 127.0.0.1:")
if "--web.enable-lifecycle" in prom_command:
    error(f"{compose_path}: prometheus's lifecycle API must be off")
# Prometheus sends ragline's metrics token; ragline admits it.
ragline_job = [job for job in prom.get("scrape_configs", []) if job.get("job_name") == "ragline"]
credentials = (ragline_job[0].get("authorization", {}) if ragline_job else {}).get("credentials_file", "")
if not credentials.startswith("/run/secrets/"):
    error("prometheus.yml: job ragline must send a bearer token from a secret (authorization.credentials_file)")
secret_name = credentials.rsplit("/", 1)[-1]
for name in ["prometheus", "ragline"]:
    if secret_name not in [str(secret if isinstance(secret, str) else secret.get("source")) for secret in services.get(name, {}).get("secrets", [])]:
        error(f"{compose_path}: {name} does not mount the secret {secret_name}")
if environment.get("RAGLINE_HTTP_METRICS_TOKEN_FILE") != credentials:
    error(f"{compose_path}: ragline must admit the token Prometheus sends (RAGLINE_HTTP_METRICS_TOKEN_FILE={credentials})")
home = grafana_env.get("GF_DASHBOARDS_DEFAULT_HOME_DASHBOARD_PATH")
if home and not (host_path("grafana", home) and os.path.exists(host_path("grafana", home))):
    error(f"{compose_path}: grafana home dashboard {home} is not mounted")

# ---------------------------------------------------------------- Dockerfile
for name, service in services.items():
    if "_dockerfile" not in service or not os.path.isfile(service["_dockerfile"]):
        continue
    context, dockerfile = service["_context"], service["_dockerfile"]
    ignore_file = dockerfile + ".dockerignore"
    if not os.path.exists(ignore_file):
        ignore_file = os.path.join(context, ".dockerignore")
    ignored = []
    if os.path.exists(ignore_file):
        with open(ignore_file) as f:
            ignored = [l.strip() for l in f if l.strip() and not l.startswith("#")]

    def is_ignored(path):
        verdict = False
        for pattern in ignored:
            negate = pattern.startswith("!")
            pattern = pattern.lstrip("!").strip("/")
            pattern = pattern[3:] if pattern.startswith("**/") else pattern
            parts = path.split("/")
            if any(fnmatch.fnmatch("/".join(parts[:i]), pattern) for i in range(1, len(parts) + 1)) or \
                    fnmatch.fnmatch(parts[-1], pattern):
                verdict = not negate
        return verdict

    with open(dockerfile) as f:
        text = re.sub(r"\\\n", " ", f.read())
    copied = []
    for line in text.splitlines():
        words = line.split()
        if not words or words[0].upper() not in ("COPY", "ADD"):
            continue
        args = [w for w in words[1:] if not w.startswith("--")]
        if any(w.startswith("--from") for w in words[1:]):
            continue
        if args and args[0].startswith("["):
            args = json.loads(" ".join(args))
        for source in args[:-1]:
            source = source.rstrip("/") or "."
            if source.startswith(("http://", "https://")):
                continue
            if not os.path.exists(os.path.join(context, source)):
                error(f"{dockerfile}: COPY source {source} does not exist in the context {context}")
            elif is_ignored(source):
                error(f"{dockerfile}: COPY source {source} is excluded by {ignore_file}")
            copied.append(os.path.normpath(source))

    def in_build(path):
        path = os.path.normpath(os.path.relpath(path, context))
        return any(path == c or path.startswith(c + "/") for c in copied) and not is_ignored(path)

    # What cargo needs at build time is inside the copied sources.
    if os.path.exists(os.path.join(context, "Cargo.toml")) and "Cargo.toml" in copied:
        with open(os.path.join(context, "Cargo.toml"), "rb") as f:
            manifest = tomllib.load(f)
        paths = []
        for kind in ("lib",):
            if "path" in manifest.get(kind, {}):
                paths.append(manifest[kind]["path"])
        for kind in ("bin",):  # tests/benches/examples are not built by cargo build --release
            paths += [t["path"] for t in manifest.get(kind, []) if "path" in t]
        if isinstance(manifest.get("package", {}).get("build"), str):
            paths.append(manifest["package"]["build"])
        elif os.path.exists(os.path.join(context, "build.rs")) and manifest.get("package", {}).get("build") is not False:
            paths.append("build.rs")
        for path in paths:
            if not in_build(os.path.join(context, path)):
                error(f"{dockerfile}: Cargo.toml target {path} is not copied into the build")
        include = re.compile(r'include_(?:str|bytes)!\(\s*"([^"]+)"')
        for root, _, files in os.walk(os.path.join(context, "src")):
            for file_name in files:
                if not file_name.endswith(".rs"):
                    continue
                source_file = os.path.normpath(os.path.join(root, file_name))
                with open(source_file) as f:
                    code = f.read()
                # Includes after the file's first #[cfg(test)] are taken to be
                # test-only: cargo build --release does not read them.
                test_start = code.find("#[cfg(test)]")
                if test_start >= 0:
                    code = code[:test_start]
                for included in include.findall(code):
                        path = os.path.normpath(os.path.join(root, included))
                        if not os.path.exists(path):
                            error(f"{source_file}: includes {included}, which does not exist")
                        elif not in_build(path):
                            error(f"{source_file}: includes {included}, which the Dockerfile does not copy")

if errors:
    print("\n".join(errors))
    sys.exit(1)
print(f"{len(exprs)} dashboard queries, {len(services)} services, {len(alerts)} alerts checked")
PY

if [ -f "$tmp/dashboard-exprs.yml" ]; then
  check "promtool parses every dashboard query (docker/grafana/dashboards/ragline.json)" \
    promtool check rules "$tmp/dashboard-exprs.yml"
fi

# ------------------------------------------------------------------ scripts
for script in docker/*.sh docker/*/*.sh; do
  [ -f "$script" ] || continue
  check "bash -n $script" bash -n "$script"
  [ -x "$script" ] || fail "$script is not executable"
done
if command -v shellcheck >/dev/null 2>&1; then
  check "shellcheck docker/ scripts and scripts/check-deploy.sh" \
    shellcheck docker/*.sh docker/*/*.sh scripts/check-deploy.sh
else
  skip "shellcheck (not installed)"
fi

# ------------------------------------------------------------ docker compose
if docker compose version >/dev/null 2>&1; then
  check "docker compose -f docker/docker-compose.yml config -q" \
    docker compose -f docker/docker-compose.yml config -q
else
  skip "docker compose config (no docker compose plugin here)"
fi

if [ ${#failures[@]} -gt 0 ]; then
  printf 'check-deploy: %d check(s) failed:\n' "${#failures[@]}" >&2
  printf '  - %s\n' "${failures[@]}" >&2
  exit 1
fi
echo "check-deploy: all checks passed"
