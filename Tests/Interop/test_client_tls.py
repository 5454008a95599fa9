"""Strait's own client (`strait produce` / `strait consume --command-config`) against a secured
`strait broker`: SCRAM over TLS, a client certificate, and hostname verification, which is on by
default and checks the certificate's names against the address connected to (IP subject
alternative names for an IP)."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from conftest import strait_binary
from security_setup import SCRAM_PASSWORD, SCRAM_USER, SecureBroker, run

WRONG_NAME_EXT = "subjectAltName=DNS:wrong.example\n"


@pytest.fixture(scope="module")
def secure(tmp_path_factory):
    root = tmp_path_factory.mktemp("client-tls")
    broker = SecureBroker(strait_binary(), root)
    # A second certificate from the same CA that names another host only.
    certs = root / "certs"
    (certs / "wrong.ext").write_text(WRONG_NAME_EXT)
    run(["openssl", "req", "-newkey", "rsa:2048", "-nodes", "-keyout", "wrong.key", "-out", "wrong.csr", "-subj", "/CN=wrong.example"], certs)
    run(["openssl", "x509", "-req", "-in", "wrong.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial", "-out", "wrong.crt",
         "-days", "2", "-extfile", "wrong.ext"], certs)
    (certs / "wrong.pem").write_text((certs / "wrong.key").read_text() + (certs / "wrong.crt").read_text())
    (certs / "client.pem").write_text((certs / "client.key").read_text() + (certs / "client.crt").read_text())
    broker.add_user(SCRAM_USER, SCRAM_PASSWORD)
    broker.start()
    yield broker
    broker.stop()


def client_config(path: Path, lines: list[str]) -> Path:
    path.write_text("\n".join(lines) + "\n")
    return path


def round_trip(broker: SecureBroker, listener: str, config: Path, topic: str) -> subprocess.CompletedProcess:
    values = [f"{topic}-{i}" for i in range(5)]
    produced = subprocess.run([str(strait_binary()), "produce", "--bootstrap", broker.bootstrap(listener), "--topic", topic,
                               "--command-config", str(config)], input="\n".join(values) + "\n", capture_output=True, text=True, timeout=60)
    if produced.returncode != 0:
        return produced
    consumed = subprocess.run([str(strait_binary()), "consume", "--bootstrap", broker.bootstrap(listener), "--topic", topic,
                               "--from-beginning", "--max-records", "5", "--idle-timeout-ms", "10000", "--command-config", str(config)],
                              capture_output=True, text=True, timeout=60)
    assert consumed.returncode == 0, consumed.stderr
    assert [line for line in consumed.stdout.splitlines() if line] and all(v in consumed.stdout for v in values), consumed.stdout
    return consumed


def test_scram_over_tls_with_the_password_from_the_environment(secure, tmp_path, monkeypatch):
    monkeypatch.setenv("STRAIT_TEST_PASSWORD", SCRAM_PASSWORD)
    config = client_config(tmp_path / "client.properties", [
        "security.protocol=SASL_SSL", "sasl.mechanism=SCRAM-SHA-512",
        "sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required "
        f'username="{SCRAM_USER}" password="${{env:STRAIT_TEST_PASSWORD}}";',
        "ssl.truststore.type=PEM", f"ssl.truststore.location={secure.certs['ca.pem']}"])
    result = round_trip(secure, "SASL_SSL", config, "client-tls-scram")
    assert SCRAM_PASSWORD not in result.stderr + result.stdout


def test_a_wrong_password_fails_in_one_line(secure, tmp_path):
    config = client_config(tmp_path / "client.properties", [
        "security.protocol=SASL_SSL", "sasl.mechanism=SCRAM-SHA-256",
        'sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required username="alice" password="nope-Wrong-1";',
        f"ssl.truststore.location={secure.certs['ca.pem']}"])
    result = subprocess.run([str(strait_binary()), "consume", "--bootstrap", secure.bootstrap("SASL_SSL"), "--topic", "x",
                             "--idle-timeout-ms", "2000", "--command-config", str(config)], capture_output=True, text=True, timeout=60)
    assert result.returncode != 0
    assert "cannot authenticate" in result.stderr and "SASL_AUTHENTICATION_FAILED" in result.stderr, result.stderr
    assert "nope-Wrong-1" not in result.stderr


def test_client_certificate_on_the_ssl_listener(secure, tmp_path):
    with_certificate = client_config(tmp_path / "mtls.properties", [
        "security.protocol=SSL", f"ssl.truststore.location={secure.certs['ca.pem']}",
        "ssl.keystore.type=PEM", f"ssl.keystore.location={secure.root / 'certs' / 'client.pem'}"])
    round_trip(secure, "SSL", with_certificate, "client-tls-mtls")
    without = client_config(tmp_path / "no-cert.properties", ["security.protocol=SSL", f"ssl.truststore.location={secure.certs['ca.pem']}"])
    result = subprocess.run([str(strait_binary()), "consume", "--bootstrap", secure.bootstrap("SSL"), "--topic", "client-tls-mtls",
                             "--idle-timeout-ms", "2000", "--command-config", str(without)], capture_output=True, text=True, timeout=60)
    assert result.returncode != 0 and "TLS handshake" in result.stderr, result.stderr


def test_hostname_verification_is_on_by_default(tmp_path_factory, secure, tmp_path):
    # A broker whose certificate names wrong.example only, reached at 127.0.0.1.
    root = tmp_path_factory.mktemp("wrong-name")
    broker = SecureBroker(strait_binary(), root)
    broker.config_path.write_text(broker.properties().replace(str(broker.certs["server.pem"]), str(secure.root / "certs" / "wrong.pem"))
                                  .replace(str(broker.certs["ca.pem"]), str(secure.certs["ca.pem"])))
    broker.start()
    try:
        trusting = [f"security.protocol=SSL", f"ssl.truststore.location={secure.certs['ca.pem']}",
                    "ssl.keystore.type=PEM", f"ssl.keystore.location={secure.root / 'certs' / 'client.pem'}"]
        verified = client_config(tmp_path / "verified.properties", trusting)
        result = subprocess.run([str(strait_binary()), "consume", "--bootstrap", broker.bootstrap("SSL"), "--topic", "t",
                                 "--idle-timeout-ms", "2000", "--command-config", str(verified)], capture_output=True, text=True, timeout=60)
        assert result.returncode != 0 and "TLS handshake" in result.stderr, result.stderr
        unverified = client_config(tmp_path / "unverified.properties", trusting + ["ssl.endpoint.identification.algorithm="])
        round_trip(broker, "SSL", unverified, "client-tls-noverify")
    finally:
        broker.stop()


def test_an_untrusted_broker_is_refused(secure, tmp_path):
    # The system's roots do not include the test CA.
    config = client_config(tmp_path / "system-roots.properties", ["security.protocol=SSL"])
    result = subprocess.run([str(strait_binary()), "consume", "--bootstrap", secure.bootstrap("SSL"), "--topic", "t",
                             "--idle-timeout-ms", "2000", "--command-config", str(config)], capture_output=True, text=True, timeout=60)
    assert result.returncode != 0 and "TLS handshake failed" in result.stderr, result.stderr
