"""The deployment files in deploy/: the systemd unit verifies, the Kubernetes manifests agree with
the strait.yaml they carry and with the image, the Dockerfile has the shape deploy/README.md
promises (no Docker engine runs in CI, so the image itself is never built here), `strait check`
accepts every shipped config, and the StatefulSet's config, moved to free local ports, runs:
its probes answer 200 and SIGTERM stops it with status 0."""

from __future__ import annotations

import re
import shutil
import signal
import socket
import subprocess
import urllib.error
import urllib.request
from pathlib import Path

import pytest
import yaml

from mirror_env import REPO, Process, free_port, strait_binary, wait_until

DEPLOY = REPO / "deploy"
UNIT = DEPLOY / "strait.service"
SYSUSERS = DEPLOY / "strait.sysusers.conf"
CONFIG = DEPLOY / "strait.yaml"
DOCKERFILE = DEPLOY / "Dockerfile"
SITE_MANIFEST = DEPLOY / "kubernetes" / "site-statefulset.yaml"
BRIDGE_MANIFEST = DEPLOY / "kubernetes" / "bridge-deployment.yaml"
MANIFESTS = [SITE_MANIFEST, BRIDGE_MANIFEST]

# Where the unit, the image and the manifests all expect the config and the binary.
INSTALLED_BINARY = "/usr/local/bin/strait"
INSTALLED_CONFIG = "/etc/strait/strait.yaml"
RUN_ARGS = ["run", "--config", INSTALLED_CONFIG]

# The daemon allows 30 s of graceful shutdown and 10 s of cancellation; every stop timeout must
# exceed that, with margin.
STOP_TIMEOUT = 60


# --- helpers -------------------------------------------------------------------------------

def documents(manifest: Path) -> list:
    return list(yaml.safe_load_all(manifest.read_text()))


def one(items: list, what: str):
    assert len(items) == 1, f"expected exactly one {what}, found {len(items)}"
    return items[0]


def carried_config(manifest: Path) -> tuple[dict, dict]:
    """The manifest's ConfigMap holding strait.yaml, and that strait.yaml parsed."""
    configmap = one([d for d in documents(manifest) if d["kind"] == "ConfigMap" and "strait.yaml" in d.get("data", {})],
                    f"ConfigMap with strait.yaml in {manifest.name}")
    return configmap, yaml.safe_load(configmap["data"]["strait.yaml"])


def workload(manifest: Path) -> dict:
    return one([d for d in documents(manifest) if d["kind"] in ("StatefulSet", "Deployment")],
               f"StatefulSet or Deployment in {manifest.name}")


def strait_container(workload_doc: dict) -> dict:
    return one(workload_doc["spec"]["template"]["spec"]["containers"], "container")


def port_of(address: str) -> int:
    host, _, port = address.rpartition(":")
    assert host and port.isdigit(), f"{address!r} is not HOST:PORT"
    return int(port)


def embedded_sites(config: dict) -> dict[str, dict]:
    """Sites Strait runs itself (they have a listen address); the rest are external clusters."""
    return {name: site for name, site in (config.get("sites") or {}).items() if "listen" in site}


def probe_port(probe: dict, container: dict) -> int:
    port = probe["httpGet"]["port"]
    if isinstance(port, str):  # a named port
        port = one([p["containerPort"] for p in container.get("ports", []) if p.get("name") == port], f"port named {port}")
    return port


def dockerfile_instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) pairs, continuation lines joined, comments dropped."""
    lines = [line for line in DOCKERFILE.read_text().splitlines() if not line.lstrip().startswith("#")]
    joined = re.sub(r"\\\n", " ", "\n".join(lines))
    return [(parts[0].upper(), parts[1].strip() if len(parts) > 1 else "")
            for parts in (line.strip().split(None, 1) for line in joined.splitlines() if line.strip())]


def arguments(instruction: str) -> list[str]:
    """Arguments of every `instruction`, one string per occurrence."""
    return [args for name, args in dockerfile_instructions() if name == instruction]


def words(args: str) -> list[str]:
    """An instruction's arguments in exec (JSON) form or shell form."""
    return yaml.safe_load(args) if args.startswith("[") else args.split()


def image_user() -> tuple[int, int]:
    """The uid and gid the image runs as: the last USER, which must be numeric (uid:gid)."""
    user = arguments("USER")[-1]
    match = re.fullmatch(r"(\d+):(\d+)", user)
    assert match, f"USER {user!r} must be numeric uid:gid: the kubelet can only check runAsNonRoot for a numeric user"
    return int(match.group(1)), int(match.group(2))


# --- systemd ---------------------------------------------------------------------------------

def unit_settings() -> dict[str, str]:
    settings = {}
    for line in UNIT.read_text().splitlines():
        if "=" in line and not line.startswith(("#", ";", "[")):
            key, _, value = line.partition("=")
            settings[key.strip()] = value.strip()
    return settings


def test_systemd_unit_verifies(tmp_path):
    unit = UNIT.read_text()
    assert f"\nExecStart={INSTALLED_BINARY} {' '.join(RUN_ARGS)}\n" in unit
    # `systemd-analyze verify` fails a unit whose ExecStart binary does not exist or is not
    # executable, and nothing is installed at /usr/local/bin here: the copy runs the built binary.
    copy = tmp_path / UNIT.name
    copy.write_text(unit.replace(f"ExecStart={INSTALLED_BINARY} ", f"ExecStart={strait_binary()} ", 1))
    assert shutil.which("systemd-analyze"), "systemd-analyze is missing: apt-get install systemd"
    result = subprocess.run(["systemd-analyze", "verify", str(copy)], capture_output=True, text=True, timeout=60)
    output = result.stdout + result.stderr
    # verify exits 0 on warnings (an unknown key, a bad value: "FILE:LINE: ...") and 1 on errors
    # ("strait.service: ..."); both name the unit. Lines about other units on this machine are not
    # ours. A User= that does not exist yet is not checked by verify (it resolves users at start);
    # test_sysusers_creates_the_units_user covers it.
    complaints = [line for line in output.splitlines() if str(copy) in line or copy.name in line]
    assert result.returncode == 0 and not complaints, f"systemd-analyze verify (exit {result.returncode}):\n{output}"


def test_systemd_unit_stops_gracefully_and_keeps_state_in_the_state_dir():
    settings = unit_settings()
    assert settings["KillSignal"] == "SIGTERM"
    assert int(settings["TimeoutStopSec"]) >= STOP_TIMEOUT
    assert settings["Restart"] == "on-failure"
    assert settings["StateDirectory"] == "strait"
    assert "/var/lib/strait" in settings["ReadWritePaths"].split()
    assert settings["ProtectSystem"] == "strict" and settings["User"] not in ("root", "0")
    # Every embedded site's data must be under the state directory: ProtectSystem=strict makes
    # the rest of the file system read-only to the daemon.
    config = yaml.safe_load(CONFIG.read_text())
    assert embedded_sites(config)
    for name, site in embedded_sites(config).items():
        assert site["data.dir"].startswith("/var/lib/strait/"), f"site {name}: data.dir outside /var/lib/strait"


def test_sysusers_creates_the_units_user(tmp_path):
    root = tmp_path / "root"
    (root / "etc").mkdir(parents=True)
    assert shutil.which("systemd-sysusers"), "systemd-sysusers is missing: apt-get install systemd"
    result = subprocess.run(["systemd-sysusers", f"--root={root}", str(SYSUSERS)], capture_output=True, text=True,
                            timeout=60)
    assert result.returncode == 0, result.stderr
    users = {line.split(":")[0]: line.split(":") for line in (root / "etc" / "passwd").read_text().splitlines()}
    groups = {line.split(":")[0] for line in (root / "etc" / "group").read_text().splitlines()}
    settings = unit_settings()
    assert settings["User"] in users and settings["Group"] in groups
    assert users[settings["User"]][2] != "0"


# --- Kubernetes -----------------------------------------------------------------------------

@pytest.mark.parametrize("manifest", MANIFESTS, ids=lambda p: p.name)
def test_manifest_documents_parse_and_are_named(manifest):
    docs = documents(manifest)
    assert len(docs) >= 2
    for doc in docs:
        assert isinstance(doc, dict), f"an empty or non-mapping document in {manifest.name}: {doc!r}"
        assert doc.get("apiVersion") and doc.get("kind") and (doc.get("metadata") or {}).get("name"), doc


@pytest.mark.parametrize("manifest", MANIFESTS, ids=lambda p: p.name)
def test_manifest_probes_and_ports_match_its_config(manifest):
    configmap, config = carried_config(manifest)
    spec = workload(manifest)["spec"]["template"]["spec"]
    container = strait_container(workload(manifest))
    http_port = port_of(config["http"]["listen"])
    kafka_ports = {port_of(site["listen"]) for site in embedded_sites(config).values()}

    assert container["livenessProbe"]["httpGet"]["path"] == "/health/live"
    assert container["readinessProbe"]["httpGet"]["path"] == "/health/ready"
    if "startupProbe" in container:
        assert container["startupProbe"]["httpGet"]["path"] == "/health/live"
    for kind in ("livenessProbe", "readinessProbe", "startupProbe"):
        if kind in container:
            assert probe_port(container[kind], container) == http_port, kind
    assert {p["containerPort"] for p in container["ports"]} == {http_port} | kafka_ports

    # The container reads the config the ConfigMap holds: mounted where --config points.
    assert container["args"] == RUN_ARGS
    config_volume = one([v["name"] for v in spec["volumes"] if v.get("configMap", {}).get("name") == configmap["metadata"]["name"]],
                        "volume of the ConfigMap")
    mount = one([m for m in container["volumeMounts"] if m["name"] == config_volume], "mount of the ConfigMap")
    assert f"{mount['mountPath'].rstrip('/')}/strait.yaml" == INSTALLED_CONFIG
    assert spec["terminationGracePeriodSeconds"] >= STOP_TIMEOUT


def test_statefulset_keeps_the_site_data_on_its_volume_and_advertises_the_pod():
    statefulset = workload(SITE_MANIFEST)
    assert statefulset["kind"] == "StatefulSet" and statefulset["spec"]["replicas"] == 1
    _, config = carried_config(SITE_MANIFEST)
    sites = embedded_sites(config)
    assert sites
    claims = {t["metadata"]["name"] for t in statefulset["spec"]["volumeClaimTemplates"]}
    mounts = [m for m in strait_container(statefulset)["volumeMounts"] if m["name"] in claims]
    assert mounts, "no volume claim is mounted"
    for name, site in sites.items():
        assert any(site["data.dir"].startswith(m["mountPath"].rstrip("/") + "/") for m in mounts), \
            f"site {name}: data.dir {site['data.dir']} is not on a claimed volume ({[m['mountPath'] for m in mounts]})"

    # Clients are told the pod's own name under the headless Service, on the port it listens on.
    service = one([d for d in documents(SITE_MANIFEST) if d["kind"] == "Service"], "Service")
    assert service["spec"]["clusterIP"] == "None"
    assert service["metadata"]["name"] == statefulset["spec"]["serviceName"]
    pod = f"{statefulset['metadata']['name']}-0.{statefulset['spec']['serviceName']}."
    for name, site in sites.items():
        assert site["advertised.listen"].startswith(pod), f"site {name} advertises {site['advertised.listen']}"
        assert port_of(site["advertised.listen"]) == port_of(site["listen"])
    template_labels = statefulset["spec"]["template"]["metadata"]["labels"]
    assert service["spec"]["selector"].items() <= template_labels.items()


def test_bridge_has_no_embedded_site_and_no_volume_claim():
    deployment = workload(BRIDGE_MANIFEST)
    assert deployment["kind"] == "Deployment" and deployment["spec"]["replicas"] >= 1
    _, config = carried_config(BRIDGE_MANIFEST)
    assert not embedded_sites(config) and len(config["sites"]) >= 2 and config["flows"]
    for flow in config["flows"]:
        assert flow["source"] in config["sites"] and flow["target"] in config["sites"]
    volumes = deployment["spec"]["template"]["spec"].get("volumes", [])
    assert all("persistentVolumeClaim" not in v for v in volumes)


@pytest.mark.parametrize("manifest", MANIFESTS, ids=lambda p: p.name)
def test_manifest_runs_as_the_image_user(manifest):
    uid, gid = image_user()
    spec = workload(manifest)["spec"]["template"]["spec"]
    pod = spec["securityContext"]
    assert pod["runAsNonRoot"] is True
    assert pod["runAsUser"] == uid and pod["runAsGroup"] == gid and pod["fsGroup"] == gid
    container = strait_container(workload(manifest)).get("securityContext", {})
    assert container.get("runAsUser", uid) == uid and container.get("allowPrivilegeEscalation") is False


# --- Dockerfile --------------------------------------------------------------------------------

def test_dockerfile_structure():
    images = [next(w for w in args.split() if not w.startswith("--")) for args in arguments("FROM")]
    assert len(images) >= 2, images
    # Official images have no registry or namespace; the runtime runs the same Swift as the build.
    assert re.fullmatch(r"swift:[\w.-]+", images[0]), images[0]
    assert images[-1] == images[0] + "-slim", images
    assert any("--product strait" in args and "-c release" in args for args in arguments("RUN"))

    uid, gid = image_user()
    assert uid != 0
    created = " ".join(arguments("RUN"))
    assert re.search(rf"useradd\b[^&;]*--uid {uid}\b", created) and re.search(rf"groupadd\b[^&;]*--gid {gid}\b", created)
    runtime_installs = [args for args in arguments("RUN") if "apt-get" in args][-1]
    for package in ("zlib1g", "liblz4-1", "libzstd1", "libsnappy1v5"):
        assert re.search(rf"\b{re.escape(package)}\b", runtime_installs), f"{package} is not installed in the runtime image"

    assert any("/var/lib/strait" in words(args) for args in arguments("VOLUME"))
    exposed = {word.split("/")[0] for args in arguments("EXPOSE") for word in args.split()}
    assert {"9092", "9464"} <= exposed, exposed
    assert any(words(args)[-2:] == ["deploy/strait.yaml", INSTALLED_CONFIG] and "--from" not in args
               for args in arguments("COPY"))
    assert words(arguments("ENTRYPOINT")[-1]) == ["strait"]
    assert words(arguments("CMD")[-1]) == RUN_ARGS
    assert arguments("STOPSIGNAL")[-1] == "SIGTERM"
    # The image's config is the one the systemd unit uses, with the ports the manifests expose.
    config = yaml.safe_load(CONFIG.read_text())
    assert port_of(config["http"]["listen"]) == 9464
    assert {port_of(site["listen"]) for site in embedded_sites(config).values()} == {9092}


def test_dockerignore_keeps_build_output_out_of_the_context():
    ignored = {line.strip() for line in (REPO / ".dockerignore").read_text().splitlines()
               if line.strip() and not line.startswith("#")}
    assert {".build*", "strait-data", ".git"} <= ignored, ignored


# --- strait check / run --config ------------------------------------------------------------------

def shipped_configs(tmp_path: Path) -> list[Path]:
    paths = [CONFIG]
    for manifest in MANIFESTS:
        path = tmp_path / f"{manifest.stem}.strait.yaml"
        path.write_text(carried_config(manifest)[0]["data"]["strait.yaml"])
        paths.append(path)
    return paths


def strait_check(path: Path) -> subprocess.CompletedProcess:
    return subprocess.run([strait_binary(), "check", "--config", str(path)], capture_output=True, text=True, timeout=60)


def test_strait_check_accepts_every_shipped_config(tmp_path):
    for path in shipped_configs(tmp_path):
        result = strait_check(path)
        assert result.returncode == 0, f"strait check {path} (exit {result.returncode}):\n{result.stdout}{result.stderr}"


def test_strait_check_rejects_a_broken_copy_naming_file_line_and_key(tmp_path):
    # The counterpart of the test above: a check that accepted anything would pass it.
    lines = CONFIG.read_text().splitlines()
    index = next(i for i, line in enumerate(lines) if re.fullmatch(r"\s+listen: 0\.0\.0\.0:9092", line))
    lines[index] = lines[index].replace("0.0.0.0:9092", "0.0.0.0:not-a-port")
    broken = tmp_path / "broken.yaml"
    broken.write_text("\n".join(lines) + "\n")
    result = strait_check(broken)
    output = (result.stdout + result.stderr).strip()
    assert result.returncode == 1, f"exit {result.returncode}:\n{output}"
    match = re.fullmatch(rf"{re.escape(str(broken))}:(\d+): (\S+): .+", output)
    assert match, f"expected one line FILE:LINE: KEY: problem, got:\n{output}"
    assert int(match.group(1)) == index + 1 and match.group(2).endswith("listen"), output


def http_ok(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return response.status == 200
    except (urllib.error.URLError, ConnectionError, TimeoutError, OSError):
        return False


def accepts(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1):
            return True
    except OSError:
        return False


def test_statefulset_config_runs_live_and_stops_on_sigterm(tmp_path):
    _, config = carried_config(SITE_MANIFEST)
    http_port = free_port()
    config["http"]["listen"] = f"127.0.0.1:{http_port}"
    kafka_ports = {}
    for name, site in embedded_sites(config).items():
        kafka_ports[name] = free_port()
        site["listen"] = f"127.0.0.1:{kafka_ports[name]}"
        if "advertised.listen" in site:
            site["advertised.listen"] = site["listen"]
        site["data.dir"] = str(tmp_path / "data" / name)
    assert kafka_ports
    path = tmp_path / "strait.yaml"
    path.write_text(yaml.safe_dump(config, sort_keys=False))

    daemon = Process(tmp_path / "strait.log")
    daemon.spawn([strait_binary(), "run", "--config", str(path)])
    try:
        base = f"http://127.0.0.1:{http_port}"

        def probes_pass():
            if not daemon.running:
                raise AssertionError(f"strait exited with {daemon.proc.returncode}:\n{daemon.log()[-4000:]}")
            return http_ok(f"{base}/health/live") and http_ok(f"{base}/health/ready")

        wait_until(probes_pass, 60, "/health/live and /health/ready to answer 200")
        # Ready means the site listens, on the rewritten port, with its data where it was told.
        for name, port in kafka_ports.items():
            assert accepts(port), f"site {name} does not accept on {port} although ready"
            assert (tmp_path / "data" / name).is_dir()

        daemon.proc.send_signal(signal.SIGTERM)
        try:
            status = daemon.proc.wait(timeout=STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            raise AssertionError(f"SIGTERM did not stop strait within {STOP_TIMEOUT}s:\n{daemon.log()[-4000:]}")
        assert status == 0, f"exit status {status} after SIGTERM:\n{daemon.log()[-4000:]}"
    finally:
        daemon.kill()
