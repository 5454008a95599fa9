"""The example configurations in configs/: every YAML file passes `strait check --config` and every
`mm2.properties` file `strait check --mm2`, with the site and flow counts its contents promise in
the OK line, and configs/embedded.yaml says exactly what configs/embedded.properties says
(docs/configuration.md presents the one as the twin of the other). Offline: nothing listens,
nothing is created.

The two security examples (docs/security.md) are checked for real, on copies in tmp_path:
configs/secured-replication.properties passes `strait check --mm2` once the truststore and the
secrets file it names exist (a CA written with openssl, a secrets file holding the key its
${file:...} reference asks for), and configs/server.properties starts `strait broker --config`
on free ports with a tmp data directory and a certificate from that CA: it listens, takes a SCRAM
login over TLS from the super user added with `strait user add`, and stops with exit 0 on SIGTERM."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import time
from pathlib import Path

import pytest
import yaml
from confluent_kafka import KafkaException
from confluent_kafka.admin import AdminClient

from mirror_env import REPO, free_port, strait_binary

CONFIGS = REPO / "configs"
YAML_FILES = sorted(CONFIGS.glob("*.yaml"))
# server.properties is a broker's file, not an mm2.properties; secured-replication.properties
# names files that exist only where it is deployed. Both have tests of their own below.
BROKER_EXAMPLE = CONFIGS / "server.properties"
SECURED_MM2_EXAMPLE = CONFIGS / "secured-replication.properties"
PROPERTIES_FILES = sorted(path for path in CONFIGS.glob("*.properties") if path not in (BROKER_EXAMPLE, SECURED_MM2_EXAMPLE))

# The examples docs/configuration.md points to, with what each holds:
# (embedded sites, external sites, enabled flows).
DOCUMENTED = {
    "datacentre-replication.yaml": (0, 2, 1),
    "disaster-recovery.yaml": (1, 1, 1),
    "regional-aggregation.yaml": (0, 4, 3),
    "embedded.yaml": (2, 0, 1),
    "embedded.properties": (2, 0, 1),
    "secured-replication.properties": (0, 2, 1),
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
    present = {path.name for path in YAML_FILES + PROPERTIES_FILES + [BROKER_EXAMPLE, SECURED_MM2_EXAMPLE] if path.exists()}
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


# ---------------------------------------------------------------------------------------------
# The security examples (docs/security.md)
# ---------------------------------------------------------------------------------------------

SECRET = "example-Secret-8d2f1"


def openssl(args: list[str], cwd: Path):
    result = subprocess.run(["openssl", *args], cwd=cwd, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, f"openssl {' '.join(args)}: {result.stderr}"


def make_tls(directory: Path) -> dict[str, Path]:
    """A test CA and a server certificate for localhost and 127.0.0.1, with the broker's PEM file
    (key first, then the certificate), made with the commands docs/security.md shows."""
    directory.mkdir(parents=True, exist_ok=True)
    openssl(["req", "-x509", "-newkey", "rsa:2048", "-noenc", "-days", "2", "-subj", "/CN=Strait Example CA",
             "-keyout", "ca.key", "-out", "ca.pem"], directory)
    openssl(["req", "-newkey", "rsa:2048", "-noenc", "-subj", "/CN=localhost", "-keyout", "server.key", "-out", "server.csr"],
            directory)
    (directory / "server.ext").write_text("subjectAltName=DNS:localhost,IP:127.0.0.1\n")
    openssl(["x509", "-req", "-in", "server.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial", "-days", "2",
             "-extfile", "server.ext", "-out", "server.crt"], directory)
    (directory / "server.pem").write_text((directory / "server.key").read_text() + (directory / "server.crt").read_text())
    (directory / "server.pem").chmod(0o600)
    return {"ca": directory / "ca.pem", "server": directory / "server.pem"}


def java_properties(path: Path) -> dict[str, str]:
    """key -> value of a properties file as Java reads one (comments skipped, continuation lines
    joined, `=`, `:` or white space between key and value; no escapes in the examples)."""
    values, pending = {}, ""
    for raw in path.read_text().splitlines():
        line = raw.strip()
        if not pending and (not line or line.startswith(("#", "!"))):
            continue
        if line.endswith("\\"):
            pending += line[:-1]
            continue
        line, pending = pending + line, ""
        key = re.match(r"[^=:\s]+", line).group(0)
        rest = line[len(key):].lstrip()
        values[key] = rest[1:].lstrip() if rest[:1] in ("=", ":") else rest
    return values


def test_secured_replication_passes_check_with_its_truststore_and_secret(tmp_path):
    text = SECURED_MM2_EXAMPLE.read_text()
    settings = java_properties(SECURED_MM2_EXAMPLE)
    # What the example promises: a SASL_SSL cluster with a PEM truststore, and its password only
    # through ${file:PATH:KEY}.
    truststores = {key: value for key, value in settings.items() if key.endswith("ssl.truststore.location")}
    assert truststores, "the example names no truststore"
    for key in truststores:
        cluster = key[: -len(".ssl.truststore.location")]
        assert settings.get(f"{cluster}.ssl.truststore.type") == "PEM", key
        assert settings.get(f"{cluster}.security.protocol") == "SASL_SSL", key
    references = re.findall(r"\$\{file:([^:}]+):([^}]+)\}", text)
    assert references, "the example reads no secret through ${file:...}"
    assert all("password=\"${file:" in value for key, value in settings.items() if key.endswith("sasl.jaas.config")), \
        "a sasl.jaas.config holds its password"

    # The files it names, in tmp_path, and a copy of the example pointing at them.
    tls = make_tls(tmp_path / "tls")
    copy = text
    for index, path in enumerate(sorted(set(truststores.values()))):
        local = tmp_path / f"truststore-{index}.pem"
        local.write_bytes(tls["ca"].read_bytes())
        copy = copy.replace(path, str(local))
    for index, path in enumerate(sorted({path for path, _ in references})):
        local = tmp_path / f"secrets-{index}.properties"
        local.write_text("".join(f"{key} = {SECRET}\n" for reference_path, key in references if reference_path == path))
        local.chmod(0o600)
        copy = copy.replace(path, str(local))
    config = tmp_path / SECURED_MM2_EXAMPLE.name
    config.write_text(copy)

    result = subprocess.run([strait_binary(), "check", "--mm2", str(config)], capture_output=True, text=True, timeout=30)
    assert result.returncode == 0, result.stderr
    assert SECRET not in result.stdout + result.stderr
    assert check(config, "--mm2") == DOCUMENTED[SECURED_MM2_EXAMPLE.name]

    # A secret that is not there stops the check with the reference, never a value.
    for path in tmp_path.glob("secrets-*.properties"):
        path.write_text("unrelated = " + SECRET + "\n")
    result = subprocess.run([strait_binary(), "check", "--mm2", str(config)], capture_output=True, text=True, timeout=30)
    assert result.returncode == 1 and "${file:" in result.stderr and "has no key" in result.stderr, result.stderr
    assert SECRET not in result.stdout + result.stderr


def wait_listening(proc: subprocess.Popen, ports: list[int], log: Path, timeout: float = 60):
    deadline = time.monotonic() + timeout
    pending = list(ports)
    while pending:
        assert proc.poll() is None, f"broker exited with {proc.returncode}:\n{log.read_text(errors='replace')}"
        assert time.monotonic() < deadline, f"broker did not listen on {pending} within {timeout:.0f} s:\n{log.read_text(errors='replace')}"
        try:
            with socket.create_connection(("127.0.0.1", pending[0]), timeout=0.5):
                pending.pop(0)
        except OSError:
            time.sleep(0.1)


def test_server_properties_starts_a_secured_broker(tmp_path):
    text = BROKER_EXAMPLE.read_text()
    settings = java_properties(BROKER_EXAMPLE)
    # What docs/security.md says of it: PLAINTEXT on localhost, SASL_SSL on every interface, SCRAM,
    # an authorizer, a PEM keystore.
    protocol_map = dict(item.split(":") for item in settings["listener.security.protocol.map"].split(","))
    listeners = {name: address for name, address in (entry.split("://") for entry in settings["listeners"].split(","))}
    assert {protocol_map[name] for name in listeners} == {"PLAINTEXT", "SASL_SSL"}
    for name, address in listeners.items():
        host = address.rsplit(":", 1)[0]
        assert host == ("127.0.0.1" if protocol_map[name] == "PLAINTEXT" else ""), (name, address)
    sasl_listener = next(name for name in listeners if protocol_map[name] == "SASL_SSL")
    mechanisms = settings[f"listener.name.{sasl_listener.lower()}.sasl.enabled.mechanisms"].split(",")
    assert mechanisms and all(m.startswith("SCRAM-") for m in mechanisms)
    assert settings["authorizer.class.name"] and settings["ssl.keystore.type"] == "PEM"
    super_user = settings["super.users"].split(";")[0]
    assert super_user.startswith("User:")

    # A copy on free ports, with a tmp data directory and a certificate for localhost; the
    # advertised host becomes localhost, which the certificate names.
    tls = make_tls(tmp_path / "tls")
    data = tmp_path / "data"
    ports = {}
    copy = text.replace(settings["log.dirs"], str(data)).replace(settings["ssl.keystore.location"], str(tls["server"]))
    for name, address in listeners.items():
        port = address.rsplit(":", 1)[1]
        ports[name] = free_port()
        copy = re.sub(rf"(?<=[/:]){port}\b", str(ports[name]), copy)
    for entry in settings["advertised.listeners"].split(","):
        host = entry.split("://")[1].rsplit(":", 1)[0]
        if host not in ("127.0.0.1", "localhost"):
            copy = copy.replace(host, "localhost")
    config = tmp_path / "server.properties"
    config.write_text(copy)

    # The first user, before the first start (the broker must be stopped; `strait user add` creates the directory).
    data.mkdir()
    password = tmp_path / "admin.password"
    password.write_text(SECRET + "\n")
    user = super_user.removeprefix("User:")
    added = subprocess.run([strait_binary(), "user", "add", user, "--data-dir", str(data), "--password-file", str(password)],
                           capture_output=True, text=True, timeout=60)
    assert added.returncode == 0, added.stderr

    log = tmp_path / "broker.log"
    with open(log, "wb") as out:
        proc = subprocess.Popen([strait_binary(), "broker", "--config", str(config)], stdin=subprocess.DEVNULL, stdout=out,
                                stderr=subprocess.STDOUT, start_new_session=True)
    try:
        wait_listening(proc, list(ports.values()), log)

        def metadata(conf: dict):
            errors = []
            admin = AdminClient({**conf, "broker.address.family": "v4", "error_cb": errors.append})
            try:
                return admin.list_topics(timeout=20)
            except KafkaException as error:
                raise AssertionError(f"{error}; client errors: {[str(e) for e in errors]}; broker log:\n"
                                     f"{log.read_text(errors='replace')}") from None
            finally:
                del admin

        # The super user logs in with SCRAM over TLS, and is told the SASL_SSL listener's address.
        secured = metadata({"bootstrap.servers": f"localhost:{ports[sasl_listener]}", "security.protocol": "SASL_SSL",
                            "ssl.ca.location": str(tls["ca"]), "sasl.mechanisms": mechanisms[0], "sasl.username": user,
                            "sasl.password": SECRET})
        assert [f"{b.host}:{b.port}" for b in secured.brokers.values()] == [f"localhost:{ports[sasl_listener]}"], secured.brokers
        assert "__consumer_offsets" in secured.topics
        # The PLAINTEXT listener's clients are User:ANONYMOUS, whom no ACL lets see any topic.
        plain_listener = next(name for name in listeners if protocol_map[name] == "PLAINTEXT")
        anonymous = metadata({"bootstrap.servers": f"127.0.0.1:{ports[plain_listener]}"})
        assert not anonymous.topics, sorted(anonymous.topics)
        assert proc.poll() is None
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=10)
    output = log.read_text(errors="replace")
    assert proc.returncode == 0, f"exit {proc.returncode} after SIGTERM:\n{output}"
    assert "broker listening" in output and "broker stopped cleanly" in output, output
    # Every key of the example is one Strait acts on: no warning about an ignored setting.
    assert "ignored" not in output, output
    assert SECRET not in output
