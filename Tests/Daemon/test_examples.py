"""The example configurations in configs/: every YAML file passes `strait check --config` and every
`mm2.properties` file `strait check --mm2`, with the site and flow counts its contents promise in
the OK line, and configs/embedded.yaml says exactly what configs/embedded.properties says
(docs/configuration.md presents the one as the twin of the other). Offline: nothing listens,
nothing is created."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest
import yaml

from mirror_env import REPO, strait_binary

CONFIGS = REPO / "configs"
YAML_FILES = sorted(CONFIGS.glob("*.yaml"))
PROPERTIES_FILES = sorted(CONFIGS.glob("*.properties"))

# The examples docs/configuration.md points to, with what each holds:
# (embedded sites, external sites, enabled flows).
DOCUMENTED = {
    "datacentre-replication.yaml": (0, 2, 1),
    "disaster-recovery.yaml": (1, 1, 1),
    "regional-aggregation.yaml": (0, 4, 3),
    "embedded.yaml": (2, 0, 1),
    "embedded.properties": (2, 0, 1),
}

OK_LINE = re.compile(r"^(?P<file>.+): OK: (?P<embedded>\d+) embedded sites?, (?P<external>\d+) external sites?, "
                     r"(?P<flows>\d+) flows?$")


def noun(count: int, word: str) -> str:
    return f"{count} {word}{'' if count == 1 else 's'}"


def check(path: Path, flag: str) -> tuple[int, int, int]:
    """Runs `strait check`, asserts it accepted the file with exactly one well-formed OK line (the
    singular for one), and returns its counts."""
    result = subprocess.run([strait_binary(), "check", flag, str(path)], capture_output=True, text=True, timeout=30)
    assert result.returncode == 0, f"{path.name}: {result.stderr.strip()}"
    assert result.stderr == ""
    lines = result.stdout.splitlines()
    assert len(lines) == 1, result.stdout
    match = OK_LINE.match(lines[0])
    assert match, f"not an OK line: {lines[0]!r}"
    assert match["file"] == str(path)
    counts = (int(match["embedded"]), int(match["external"]), int(match["flows"]))
    assert lines[0] == (f"{path}: OK: {noun(counts[0], 'embedded site')}, {noun(counts[1], 'external site')}, "
                        f"{noun(counts[2], 'flow')}")
    return counts


def enabled(value) -> bool:
    return value is None or str(value).strip().lower() != "false"


def yaml_counts(config: dict) -> tuple[int, int, int]:
    """What a YAML file holds, read independently of Strait: sites that listen are embedded, sites
    with bootstrap.servers external; flows count unless `enabled: false`."""
    sites = config["sites"]
    embedded = sum(1 for site in sites.values() if "listen" in site)
    external = sum(1 for site in sites.values() if "bootstrap.servers" in site)
    assert embedded + external == len(sites)
    flows = sum(1 for flow in config.get("flows") or [] if enabled(flow.get("enabled")))
    return embedded, external, flows


def read_properties(path: Path) -> dict[str, str]:
    """The `key = value` lines of a properties file (the examples use no continuations or escapes)."""
    values = {}
    for line in path.read_text().splitlines():
        line = line.strip()
        if not line or line.startswith(("#", "!")):
            continue
        key, _, value = line.partition("=")
        assert key and _, f"{path.name}: cannot read {line!r}"
        values[key.strip()] = value.strip()
    return values


def names(value) -> list[str]:
    """A name list as either format writes it: a YAML list, or comma-separated text."""
    items = value if isinstance(value, list) else str(value).split(",")
    return [str(item).strip() for item in items if str(item).strip()]


def test_the_documented_examples_exist():
    present = {path.name for path in YAML_FILES + PROPERTIES_FILES}
    assert set(DOCUMENTED) <= present, f"missing from configs/: {sorted(set(DOCUMENTED) - present)}"


@pytest.mark.parametrize("path", YAML_FILES, ids=[path.name for path in YAML_FILES])
def test_yaml_example_passes_check(path):
    counts = check(path, "--config")
    assert counts == yaml_counts(yaml.safe_load(path.read_text()))
    if path.name in DOCUMENTED:
        assert counts == DOCUMENTED[path.name]


@pytest.mark.parametrize("path", PROPERTIES_FILES, ids=[path.name for path in PROPERTIES_FILES])
def test_properties_example_passes_check(path):
    counts = check(path, "--mm2")
    properties = read_properties(path)
    clusters = names(properties["clusters"])
    embedded = sum(1 for alias in clusters if f"{alias}.embedded.data.dir" in properties)
    flows = sum(1 for key, value in properties.items() if key.endswith(".enabled") and "->" in key and value.lower() == "true")
    assert counts == (embedded, len(clusters) - embedded, flows)
    if path.name in DOCUMENTED:
        assert counts == DOCUMENTED[path.name]


def test_embedded_yaml_is_the_twin_of_embedded_properties():
    yaml_path, properties_path = CONFIGS / "embedded.yaml", CONFIGS / "embedded.properties"
    assert check(yaml_path, "--config") == check(properties_path, "--mm2")

    config = yaml.safe_load(yaml_path.read_text())
    properties = read_properties(properties_path)

    # The same sites, each embedded, listening on its one bootstrap address, with the same log.
    assert set(config["sites"]) == set(names(properties["clusters"]))
    for name, site in config["sites"].items():
        assert "advertised.listen" not in site
        assert site["listen"] == properties[f"{name}.bootstrap.servers"], name
        assert site["data.dir"] == properties[f"{name}.embedded.data.dir"], name
        assert not site.get("broker") and not site.get("client"), f"{name}: settings the properties file does not have"
    sites = {name: (site["listen"], site["data.dir"]) for name, site in config["sites"].items()}
    assert sites == {"east": ("127.0.0.1:9092", "./strait-data/east"), "west": ("127.0.0.1:9093", "./strait-data/west")}

    # The same flow, with the same settings (a flow's own key, else the top-level one).
    [flow] = config["flows"]
    enabled_flows = [key[: -len(".enabled")] for key, value in properties.items()
                     if key.endswith(".enabled") and "->" in key and value.lower() == "true"]
    assert enabled_flows == [f"{flow['source']}->{flow['target']}"]
    prefix = f"{flow['source']}->{flow['target']}."
    settings = {key: value for key, value in flow.items() if key not in ("source", "target")}
    flow_keys = {key[len(prefix):] for key in properties if key.startswith(prefix) and key != prefix + "enabled"}
    top_keys = {key for key in properties if key != "clusters" and "->" not in key
                and not any(key.startswith(alias + ".") for alias in config["sites"])}
    assert set(settings) == flow_keys | top_keys
    for key, value in settings.items():
        assert names(value) == names(properties.get(prefix + key, properties.get(key))), key

    # The YAML's HTTP listener is the default one spelled out: the properties file has none (its
    # daemon serves HTTP only with --http).
    assert config["http"] == {"listen": "127.0.0.1:9464"}
