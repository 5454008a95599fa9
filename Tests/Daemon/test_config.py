"""`strait run --config FILE.yaml` and `strait check`: two embedded sites and a flow from one
YAML file, and broken files, each refused with one line naming the file, the line and the key."""

from __future__ import annotations

import json
import re
import signal
import socket
import subprocess
import urllib.error
import urllib.request
from pathlib import Path

import pytest
import yaml

from mirror_env import free_port, produce, read_all, strait_binary, unique, wait_until
from test_first_run import Daemon


def two_sites(tmp_path: Path, **overrides) -> dict:
    config = {
        "log": {"level": "info"},
        "http": {"listen": f"127.0.0.1:{free_port()}"},
        "sites": {
            "east": {"listen": f"127.0.0.1:{free_port()}", "data.dir": str(tmp_path / "data" / "east"),
                     "broker": {"num.partitions": 3}},
            "west": {"listen": f"127.0.0.1:{free_port()}", "data.dir": str(tmp_path / "data" / "west")},
        },
        "flows": [{"source": "east", "target": "west", "topics": [".*"], "refresh.topics.interval.seconds": 5}],
    }
    config.update(overrides)
    return config


def write(tmp_path: Path, config: dict | str, name: str = "strait.yaml") -> Path:
    path = tmp_path / name
    path.write_text(config if isinstance(config, str) else yaml.safe_dump(config, sort_keys=False))
    return path


def line_of(path: Path, text: str) -> int:
    return next(i for i, line in enumerate(path.read_text().splitlines(), 1) if text in line)


def check(path: Path, flag: str = "--config") -> subprocess.CompletedProcess:
    return subprocess.run([strait_binary(), "check", flag, str(path)], capture_output=True, text=True, timeout=30)


def get(address: str, path: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(f"http://{address}{path}", timeout=10) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


def metric(text: str, name: str, **labels) -> float | None:
    """The value of the series `name` whose labels include `labels`."""
    for line in text.splitlines():
        if line.startswith(name + "{") or line.startswith(name + " "):
            series, _, value = line.rpartition(" ")
            found = dict(re.findall(r'(\w+)="([^"]*)"', series))
            if all(found.get(k) == v for k, v in labels.items()):
                return float(value)
    return None


def test_two_embedded_sites_and_a_flow_from_yaml(tmp_path):
    config = two_sites(tmp_path)
    path = write(tmp_path, config)
    east, west, http = config["sites"]["east"]["listen"], config["sites"]["west"]["listen"], config["http"]["listen"]
    daemon = Daemon([strait_binary(), "run", "--config", str(path)], tmp_path, tmp_path / "daemon.log")
    try:
        daemon.wait_for("site west listening", 60)
        assert get(http, "/health/live")[0] == 200
        wait_until(lambda: get(http, "/health/ready")[0] == 200, 30, "ready")
        topic = unique("orders")
        values = [b"r%d" % i for i in range(500)]
        produce(east, topic, [{"value": v} for v in values])
        copied = read_all(west, f"east.{topic}", expected=len(values), timeout=60)
        assert sorted(r[3] for r in copied) == sorted(values)
        # The site's broker settings apply: auto-created topics get num.partitions=3.
        assert {r[0] for r in copied} == {0, 1, 2}

        # /status: the flow's figures and per-partition lag, once the positions are known.
        def settled():
            status = json.loads(get(http, "/status")[1])
            flow = status["flows"][0]
            partitions = [p for p in flow["partitions"] if p["topic"] == topic]
            return len(partitions) == 3 and all(p["lag"] == 0 for p in partitions) and status
        status = wait_until(settled, 30, "lag 0 on every partition in /status")
        flow = status["flows"][0]
        assert flow["flow"] == "east->west" and flow["records"] >= 500 and flow["bytes"] > 0
        assert flow["latencyP99Ms"] is not None and flow["latencyP99Ms"] >= 0
        assert sum(p["records"] for p in flow["partitions"] if p["topic"] == topic) == 500
        assert {s["name"]: s["state"] for s in status["sites"]} == {"east": "listening", "west": "listening"}
        assert status["ready"] and status["notReady"] == []

        # /metrics: the flow's totals, MM2's per-partition names, per-partition lag, the brokers'.
        text = get(http, "/metrics")[1]
        assert metric(text, "strait_mirror_records_total", flow="east->west") >= 500
        for partition in "012":
            assert metric(text, "strait_mirror_record_count", flow="east->west", topic=topic, partition=partition) > 0
            assert metric(text, "strait_mirror_offset_lag", flow="east->west", topic=topic, partition=partition) == 0
            assert metric(text, "strait_mirror_replication_latency_ms_count", flow="east->west", topic=topic, partition=partition) > 0
            assert metric(text, "strait_mirror_record_age_ms_count", flow="east->west", topic=topic, partition=partition) > 0
        assert metric(text, "strait_broker_requests", site="east", api="Produce") > 0
        assert metric(text, "strait_broker_bytes_in", site="west") > 0
        assert "# TYPE strait_mirror_replication_latency_ms histogram" in text

        # strait status reads the same document and prints it for people.
        table = subprocess.run([strait_binary(), "status", "--config", str(path)], capture_output=True, text=True, timeout=30)
        assert table.returncode == 0, table.stderr
        assert "flow east->west:" in table.stdout and f"east.{topic}" in table.stdout and "listening" in table.stdout

        assert daemon.stop(signal.SIGTERM) == 0
        assert daemon.log().count("broker stopped cleanly") == 2

        # The next start needs no recovery.
        mark = len(daemon.log())
        daemon = Daemon([strait_binary(), "run", "--config", str(path)], tmp_path, tmp_path / "daemon.log")
        daemon.wait_for("site west listening", 60, since=mark)
        restart = daemon.log()[mark:]
        assert restart.count("recovered=false") == 2 and "recovered=true" not in restart, restart[-3000:]
        assert daemon.stop(signal.SIGTERM) == 0
    finally:
        daemon.kill()


def test_status_names_an_address_nobody_answers(tmp_path):
    port = free_port()
    result = subprocess.run([strait_binary(), "status", "--http", f"127.0.0.1:{port}"], capture_output=True, text=True, timeout=30)
    assert result.returncode == 1
    assert result.stderr.strip() == f"Error: cannot read http://127.0.0.1:{port}/status: connection refused"


def test_check_accepts_a_valid_file_and_touches_nothing(tmp_path):
    config = two_sites(tmp_path)
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        # Offline: a port in use and a directory not yet there are for `run` to find.
        config["sites"]["east"]["listen"] = f"127.0.0.1:{taken.getsockname()[1]}"
        path = write(tmp_path, config)
        result = check(path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == f"{path}: OK: 2 embedded sites, 0 external sites, 1 flow"
    assert not (tmp_path / "data").exists()


def test_check_accepts_the_example_mm2_files():
    configs = Path(__file__).resolve().parents[2] / "configs"
    # server.properties is a broker's file, and secured-replication.properties names a truststore
    # and a secrets file that exist only where it is deployed: test_examples.py checks both.
    files = sorted(path for path in configs.glob("*.properties")
                   if path.name not in ("server.properties", "secured-replication.properties"))
    assert files
    for path in files:
        result = check(path, "--mm2")
        assert result.returncode == 0, f"{path}: {result.stderr}"


def broken(tmp_path: Path, mutate) -> Path:
    config = two_sites(tmp_path)
    mutate(config)
    return write(tmp_path, config)


@pytest.mark.parametrize("case, mutate, marker, key, problem", [
    ("unknown key", lambda c: c["sites"]["east"].update({"lisen": "x"}), "lisen:", "sites.east.lisen",
     "unknown key; expected one of advertised.listen, bootstrap.servers, broker, client, data.dir, listen"),
    ("unknown top-level key", lambda c: c.update({"flow": []}), "flow:", "flow", "unknown key; expected one of flows, http, log, sites"),
    ("unknown broker setting", lambda c: c["sites"]["east"]["broker"].update({"num.partitons": 2}), "num.partitons",
     "sites.east.broker.num.partitons", "not a Kafka broker setting"),
    ("wrong type", lambda c: c["flows"][0].update({"topics": {"a": "b"}}), "topics:", "flows[0].topics",
     "expected a value or a list, found a map"),
    ("wrong type of section", lambda c: c.update({"sites": ["east"]}), "sites:", "sites", "expected a map of settings, found a list"),
    ("bad value", lambda c: c["flows"][0].update({"refresh.topics.interval.seconds": 0}), "refresh.topics",
     "flows[0].refresh.topics.interval.seconds", "'0' is not a whole number of at least 1"),
    ("unknown MM2 key", lambda c: c["flows"][0].update({"emit.heartbeat.enabled": True}), "emit.heartbeat.enabled",
     "flows[0].emit.heartbeat.enabled", "unknown MirrorMaker 2 setting"),
    ("flow naming an unknown site", lambda c: c["flows"][0].update({"target": "south"}), "target:", "flows[0].target",
     "'south' is not a site declared under sites"),
    ("two sites on one port", lambda c: c["sites"]["west"].update({"listen": c["sites"]["east"]["listen"]}), "west", "sites.west.listen",
     None),
    ("a bad address", lambda c: c["http"].update({"listen": "localhost"}), "listen: localhost", "http.listen",
     "expected HOST:PORT, got 'localhost'"),
    ("a bad log level", lambda c: c["log"].update({"level": "loud"}), "level:", "log.level",
     "'loud' is not one of trace, debug, info, notice, warning, error, critical"),
])
def test_a_broken_file_gets_one_line_naming_the_key(tmp_path, case, mutate, marker, key, problem):
    path = broken(tmp_path, mutate)
    result = check(path)
    assert result.returncode == 1, case
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    prefix, _, reason = lines[0].partition(f": {key}: ")
    assert reason, f"{case}: '{lines[0]}' does not name {key}"
    file, _, line = prefix.rpartition(":")
    assert file == str(path)
    if marker == "west":
        assert int(line) > line_of(path, "west:")
    else:
        assert int(line) == line_of(path, marker), f"{case}: line {line} in\n{path.read_text()}"
    if problem:
        assert reason == problem
    # `strait run` refuses the same file with the same line, before starting anything.
    run = subprocess.run([strait_binary(), "run", "--config", str(path)], capture_output=True, text=True, timeout=30)
    assert run.returncode == 1 and run.stderr.strip().splitlines()[-1] == "Error: " + lines[0]
    assert not (tmp_path / "data").exists()


@pytest.mark.parametrize("key, words", [("sites.west.listen", "site west cannot start: cannot listen on {address}: Address already in use"),
                                         ("http.listen", "cannot listen on {address}: address already in use")])
def test_run_names_the_key_of_a_port_in_use(tmp_path, key, words):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        address = f"127.0.0.1:{taken.getsockname()[1]}"
        config = two_sites(tmp_path)
        section, _, rest = key.partition(".")
        target = config[section]
        for part in rest.split(".")[:-1]:
            target = target[part]
        target["listen"] = address
        path = write(tmp_path, config)
        result = subprocess.run([strait_binary(), "run", "--config", str(path)], capture_output=True, text=True, timeout=60)
    assert result.returncode == 1
    assert result.stderr.strip().splitlines()[-1] == f"Error: {path}:{line_of(path, address)}: {key}: " + words.format(address=address)


def test_run_names_the_key_of_a_data_directory_that_cannot_be_created(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("")
    config = two_sites(tmp_path)
    config["sites"]["east"]["data.dir"] = str(blocker / "east")
    path = write(tmp_path, config)
    result = subprocess.run([strait_binary(), "run", "--config", str(path)], capture_output=True, text=True, timeout=60)
    assert result.returncode == 1
    assert result.stderr.strip().splitlines()[-1] == (
        f"Error: {path}:{line_of(path, 'data.dir: ' + str(blocker))}: sites.east.data.dir: site east cannot start: "
        f"cannot create directory {blocker}/east: Not a directory")
