"""The rest of the broker's security settings, each against a real `strait broker --config`:
inline PEM (on one line, and continued over lines with backslashes as Java writes it),
`ssl.client.auth=requested`, the certificate principal under ACLs, `strait user list|remove`, and
the settings refused until a later issue (OAUTHBEARER, re-authentication, mapping rules)."""

from __future__ import annotations

import signal
import subprocess
import time
from pathlib import Path

import pytest
from confluent_kafka import Producer
from confluent_kafka.admin import (AclBinding, AclOperation, AclPermissionType, AdminClient, NewTopic, ResourcePatternType,
                                   ResourceType)

from conftest import strait_binary
from security_setup import SCRAM_PASSWORD, SCRAM_USER, SecureBroker

CLIENT_PRINCIPAL = "User:CN=alice-client,O=Strait Tests"


def started(broker: SecureBroker) -> SecureBroker:
    broker.start()
    return broker


def ssl_client(broker: SecureBroker, certificate: bool, **extra) -> dict:
    conf = {"bootstrap.servers": broker.bootstrap("SSL"), "security.protocol": "SSL", "ssl.ca.location": str(broker.certs["ca.pem"]), **extra}
    if certificate:
        conf.update({"ssl.certificate.location": str(broker.certs["client.crt"]), "ssl.key.location": str(broker.certs["client.key"])})
    return conf


def delivered(conf: dict, topic: str) -> list:
    producer = Producer(conf)
    results = []
    producer.produce(topic, b"v", on_delivery=lambda err, msg: results.append(err))
    producer.flush(20)
    return results


def with_properties(broker: SecureBroker, replace: dict[str, str | None], add: list[str]) -> None:
    lines = []
    for line in broker.properties().splitlines():
        key = line.split("=", 1)[0]
        if key in replace:
            if replace[key] is not None:
                lines.append(f"{key}={replace[key]}")
        else:
            lines.append(line)
    broker.config_path.write_text("\n".join(lines + add) + "\n")


@pytest.mark.parametrize("layout", ["one-line", "continued"])
def test_inline_pem_keystore(tmp_path, layout):
    broker = SecureBroker(strait_binary(), tmp_path / "b")
    key = broker.certs["server.key"].read_text().strip().splitlines()
    chain = broker.certs["server.crt"].read_text().strip().splitlines()
    if layout == "one-line":
        inline_key, inline_chain = "\\n".join(key), "\\n".join(chain)
    else:
        inline_key, inline_chain = " \\\n    ".join(key), " \\\n    ".join(chain)
    with_properties(broker, {"ssl.keystore.type": "PEM", "ssl.keystore.location": None, "listener.name.ssl.ssl.client.auth": None},
                    [f"ssl.keystore.key={inline_key}", f"ssl.keystore.certificate.chain={inline_chain}"])
    started(broker)
    try:
        assert delivered(ssl_client(broker, certificate=False), f"inline-{layout}") == [None]
    finally:
        broker.stop()


def test_requested_client_certificates_are_optional_and_name_the_principal(tmp_path):
    broker = SecureBroker(strait_binary(), tmp_path / "b", extra="authorizer.class.name=kafka.security.authorizer.AclAuthorizer\n"
                                                                  "super.users=User:admin\n")
    with_properties(broker, {"listener.name.ssl.ssl.client.auth": "requested"},
                    ["authorizer.class.name=kafka.security.authorizer.AclAuthorizer", "super.users=User:admin"])
    broker.add_user("admin", "admin-Secret-31")
    started(broker)
    try:
        admin = AdminClient({"bootstrap.servers": broker.bootstrap("SASL_SSL"), "security.protocol": "SASL_SSL",
                             "sasl.mechanism": "SCRAM-SHA-512", "sasl.username": "admin", "sasl.password": "admin-Secret-31",
                             "ssl.ca.location": str(broker.certs["ca.pem"])})
        for future in admin.create_acls([AclBinding(ResourceType.TOPIC, "certs", ResourcePatternType.PREFIXED, CLIENT_PRINCIPAL, "*",
                                                    AclOperation.WRITE, AclPermissionType.ALLOW)]).values():
            future.result(timeout=10)
        for future in admin.create_topics([NewTopic("certs-in", 1, 1)]).values():
            future.result(timeout=10)
        # With the certificate the principal is its subject, which the ACL names.
        assert delivered(ssl_client(broker, certificate=True), "certs-in") == [None]
        # Without one the handshake still succeeds (requested, not required), as User:ANONYMOUS,
        # which has no ACL.
        errors = delivered(ssl_client(broker, certificate=False), "certs-in")
        assert len(errors) == 1 and errors[0] is not None and errors[0].name() == "TOPIC_AUTHORIZATION_FAILED", errors
    finally:
        broker.stop()


def test_strait_user_list_and_remove(tmp_path):
    broker = SecureBroker(strait_binary(), tmp_path / "b")
    broker.add_user(SCRAM_USER, SCRAM_PASSWORD)
    broker.add_user("bob", "bob-Secret-77")
    listed = subprocess.run([str(strait_binary()), "user", "list", "--data-dir", str(broker.data_dir)], capture_output=True, text=True, timeout=30)
    assert listed.returncode == 0, listed.stderr
    lines = listed.stdout.strip().splitlines()
    assert [line.split("\t")[0] for line in lines] == ["alice", "bob"], listed.stdout
    assert "SCRAM-SHA-256 (4096 iterations), SCRAM-SHA-512 (4096 iterations)" in lines[0]
    assert SCRAM_PASSWORD not in listed.stdout and "bob-Secret-77" not in listed.stdout
    removed = subprocess.run([str(strait_binary()), "user", "remove", "bob", "--data-dir", str(broker.data_dir)], capture_output=True, text=True,
                             timeout=30)
    assert removed.returncode == 0, removed.stderr
    again = subprocess.run([str(strait_binary()), "user", "remove", "bob", "--data-dir", str(broker.data_dir)], capture_output=True, text=True,
                           timeout=30)
    assert again.returncode != 0 and "no user bob" in again.stderr
    started(broker)
    try:
        # While the broker runs, its users are its own: the tool refuses to edit behind its back.
        busy = subprocess.run([str(strait_binary()), "user", "add", "carl", "--data-dir", str(broker.data_dir)], input="pw\n",
                              capture_output=True, text=True, timeout=30)
        assert busy.returncode != 0 and "AlterUserScramCredentials" in busy.stderr, busy.stderr
        bob = {"bootstrap.servers": broker.bootstrap("SASL_SSL"), "security.protocol": "SASL_SSL", "sasl.mechanism": "SCRAM-SHA-512",
               "sasl.username": "bob", "sasl.password": "bob-Secret-77", "ssl.ca.location": str(broker.certs["ca.pem"])}
        errors = []
        admin = AdminClient({**bob, "error_cb": errors.append})
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline and not any(e.name() == "_AUTHENTICATION" for e in errors):
            admin.poll(0.1)
        assert any(e.name() == "_AUTHENTICATION" for e in errors), errors
    finally:
        broker.stop()


@pytest.mark.parametrize("setting, words", [
    ("listener.name.sasl_ssl.sasl.enabled.mechanisms=OAUTHBEARER", "OAUTHBEARER is not supported yet"),
    ("connections.max.reauth.ms=3600000", "re-authentication is not supported yet"),
    ("ssl.principal.mapping.rules=RULE:^CN=(.*?),.*$/$1/", "principal mapping rules are not supported yet"),
    ("principal.builder.class=com.example.Builder", "custom principal builders are not supported"),
    ("client.quota.callback.class=com.example.Quota", "quotas are not supported yet"),
])
def test_settings_for_later_features_are_refused_in_one_line(tmp_path, setting, words):
    broker = SecureBroker(strait_binary(), tmp_path / "b", extra=setting + "\n")
    result = subprocess.run([str(strait_binary()), "broker", "--config", str(broker.config_path)], capture_output=True, text=True, timeout=30)
    assert result.returncode != 0
    errors = [line for line in result.stderr.splitlines() if line.startswith("Error")]
    assert len(errors) == 1 and words in errors[0] and str(broker.config_path) in errors[0], result.stderr
