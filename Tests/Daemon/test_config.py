"""`strait run --config FILE.yaml` and `strait check`: two embedded sites and a flow from one
YAML file, and broken files, each refused with one line naming the file, the line and the key."""

from __future__ import annotations

import signal
import socket
import subprocess
from pathlib import Path

import pytest
import yaml

from mirror_env import free_port, produce, read_all, strait_binary, unique
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


def test_two_embedded_sites_and_a_flow_from_yaml(tmp_path):
    config = two_sites(tmp_path)
    path = write(tmp_path, config)
    east, west = config["sites"]["east"]["listen"], config["sites"]["west"]["listen"]
    daemon = Daemon([strait_binary(), "run", "--config", str(path)], tmp_path, tmp_path / "daemon.log")
    try:
        daemon.wait_for("site west listening", 60)
        topic = unique("orders")
        values = [b"r%d" % i for i in range(500)]
        produce(east, topic, [{"value": v} for v in values])
        copied = read_all(west, f"east.{topic}", expected=len(values), timeout=60)
        assert sorted(r[3] for r in copied) == sorted(values)
        # The site's broker settings apply: auto-created topics get num.partitions=3.
        assert {r[0] for r in copied} == {0, 1, 2}
        assert daemon.stop(signal.SIGTERM) == 0
    finally:
        daemon.kill()


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
    files = sorted(configs.glob("*.properties"))
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
     "sites.east.broker.num.partitons", "not a Kafka broker setting Strait knows"),
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


def test_run_names_the_key_of_a_port_in_use(tmp_path):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        config = two_sites(tmp_path)
        config["sites"]["west"]["listen"] = f"127.0.0.1:{taken.getsockname()[1]}"
        path = write(tmp_path, config)
        result = subprocess.run([strait_binary(), "run", "--config", str(path)], capture_output=True, text=True, timeout=60)
    assert result.returncode == 1
    assert result.stderr.strip().splitlines()[-1] == (
        f"Error: {path}:{line_of(path, config['sites']['west']['listen'])}: sites.west.listen: site west cannot start: "
        f"cannot listen on {config['sites']['west']['listen']}: Address already in use")


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


def test_run_names_the_key_of_an_http_port_in_use(tmp_path):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        config = two_sites(tmp_path, http={"listen": f"127.0.0.1:{taken.getsockname()[1]}"})
        path = write(tmp_path, config)
        result = subprocess.run([strait_binary(), "run", "--config", str(path)], capture_output=True, text=True, timeout=60)
    assert result.returncode == 1
    assert result.stderr.strip().splitlines()[-1] == (
        f"Error: {path}:{line_of(path, config['http']['listen'])}: http.listen: cannot listen on {config['http']['listen']}: "
        "address already in use")
