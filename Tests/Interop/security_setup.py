"""Certificates and a secured Strait broker for the security tests.

``SecureBroker`` writes a test CA, a server certificate (SAN IP:127.0.0.1 and DNS:localhost) and a
client certificate with openssl, a Kafka ``server.properties`` with four listeners (PLAINTEXT,
SASL_SSL with SCRAM, SASL_PLAINTEXT with PLAIN, SSL with required client certificates), adds a
SCRAM user with ``strait user add`` and starts ``strait broker --config``.
"""

from __future__ import annotations

import gc
import os
import signal
import socket
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path

SCRAM_USER = "alice"
SCRAM_PASSWORD = "scram-Secret-4f1a9"
PLAIN_USER = "carol"
PLAIN_PASSWORD = "plain-Secret-77b2c"
CLIENT_DN = "CN=alice-client,O=Strait Tests"


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def run(cmd: list[str], cwd: Path, input: bytes | None = None) -> subprocess.CompletedProcess:
    result = subprocess.run(cmd, cwd=cwd, input=input, capture_output=True, timeout=60)
    assert result.returncode == 0, f"{' '.join(cmd)} failed: {result.stderr.decode(errors='replace')}"
    return result


def make_certificates(directory: Path) -> dict[str, Path]:
    """A CA, a server key+chain PEM (key first, as KIP-651 wants) and a client certificate."""
    directory.mkdir(parents=True, exist_ok=True)
    run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "ca.key", "-out", "ca.pem",
         "-days", "2", "-subj", "/CN=Strait Test CA"], directory)
    (directory / "server.ext").write_text("subjectAltName=IP:127.0.0.1,DNS:localhost\n")
    (directory / "client.ext").write_text("extendedKeyUsage=clientAuth\n")
    for name, subject, ext in (("server", "/CN=localhost", "server.ext"), ("client", "/O=Strait Tests/CN=alice-client", "client.ext")):
        run(["openssl", "req", "-newkey", "rsa:2048", "-nodes", "-keyout", f"{name}.key", "-out", f"{name}.csr",
             "-subj", subject], directory)
        run(["openssl", "x509", "-req", "-in", f"{name}.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial",
             "-out", f"{name}.crt", "-days", "2", "-extfile", ext], directory)
    (directory / "server.pem").write_text((directory / "server.key").read_text() + (directory / "server.crt").read_text())
    run(["openssl", "pkcs12", "-export", "-in", "server.crt", "-inkey", "server.key", "-out", "server.p12",
         "-passout", "pass:p12-Secret-1"], directory)
    return {name: directory / name for name in
            ("ca.pem", "server.pem", "server.key", "server.crt", "server.p12", "client.key", "client.crt")}


class SecureBroker:
    def __init__(self, binary: Path, root: Path, extra: str = ""):
        self.binary = binary
        self.root = root
        self.certs = make_certificates(root / "certs")
        self.data_dir = root / "data"
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.ports = {name: free_port() for name in ("PLAINTEXT", "SASL_SSL", "SASL_PLAINTEXT", "SSL")}
        self.config_path = root / "server.properties"
        self.config_path.write_text(self.properties() + extra)
        self.log_path = root / "broker.log"
        self.proc: subprocess.Popen | None = None

    def bootstrap(self, listener: str) -> str:
        return f"127.0.0.1:{self.ports[listener]}"

    def properties(self) -> str:
        listeners = ",".join(f"{name}://127.0.0.1:{port}" for name, port in self.ports.items())
        return "\n".join([
            "# A Kafka server.properties, as an operator would write it",
            "process.roles=broker,controller",
            "node.id=1",
            f"listeners={listeners}",
            f"log.dirs={self.data_dir}",
            "auto.create.topics.enable=true",
            "num.partitions=1",
            "ssl.keystore.type=PEM",
            f"ssl.keystore.location={self.certs['server.pem']}",
            "ssl.truststore.type=PEM",
            f"ssl.truststore.location={self.certs['ca.pem']}",
            "listener.name.ssl.ssl.client.auth=required",
            "listener.name.sasl_ssl.sasl.enabled.mechanisms=SCRAM-SHA-512,SCRAM-SHA-256",
            "listener.name.sasl_plaintext.sasl.enabled.mechanisms=PLAIN",
            "listener.name.sasl_plaintext.plain.sasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule "
            f'required user_{PLAIN_USER}="{PLAIN_PASSWORD}";',
            "",
        ])

    def add_user(self, user: str, password: str):
        run([str(self.binary), "user", "add", user, "--data-dir", str(self.data_dir)], self.root, input=(password + "\n").encode())

    def start(self) -> "SecureBroker":
        with open(self.log_path, "ab") as log:
            self.proc = subprocess.Popen([str(self.binary), "broker", "--config", str(self.config_path)],
                                         stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            assert self.proc.poll() is None, f"broker exited with {self.proc.returncode}:\n{self.log()}"
            try:
                with socket.create_connection(("127.0.0.1", self.ports["SSL"]), timeout=0.5):
                    return self
            except OSError:
                time.sleep(0.05)
        self.stop()
        raise AssertionError(f"broker did not listen within 30 s:\n{self.log()}")

    def stop(self):
        if self.proc is not None and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(timeout=10)

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""


def present(path: Path, timeout: float = 60) -> Path:
    """`path`, once it exists: another build may be replacing the Strait binary."""
    deadline = time.monotonic() + timeout
    while not path.exists():
        assert time.monotonic() < deadline, f"the Strait binary at {path} did not appear within {timeout:.0f} s"
        time.sleep(0.5)
    return path


def log_excerpt(text: str, lines: int = 40) -> str:
    """The first lines of a log excerpt; of a crash's backtrace only the frames in Strait's own
    sources are kept."""
    kept = [line for line in text.splitlines()
            if line.strip() and (not line.startswith(" ") or "Sources/" in line and ".build/" not in line)]
    more = f"\n... ({len(kept) - lines} more lines)" if len(kept) > lines else ""
    return "\n".join(kept[:lines]) + more


def crash_guarded(broker: SecureBroker, binary: Callable[[], Path]) -> Iterator[SecureBroker]:
    """A module's broker for one test: restarted if an earlier test crashed it, and a crash during
    this test fails this test, quoting the log lines it wrote."""
    if broker.proc.poll() is not None:
        broker.binary = binary()
        broker.start()
    offset = len(broker.log())
    yield broker
    gc.collect()
    code = broker.proc.poll()
    assert code is None, (f"the broker exited with {code} during this test; its log from this test:\n"
                          f"{log_excerpt(broker.log()[offset:])}")
