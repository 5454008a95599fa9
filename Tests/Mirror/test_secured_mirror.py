"""The mirror between two Strait brokers that both require SASL_SSL (SCRAM-SHA-512, PEM
truststores) and enforce ACLs, with the password only in a secrets file read through
`${file:...}`: records arrive, topic ACLs are synced with MM2's rules, a group fails over exactly
(reading on the target through the synced ACL), and no password shows in any log, page or
command output."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from confluent_kafka import Consumer, Producer, TopicPartition
from confluent_kafka.admin import (AclBinding, AclBindingFilter, AclOperation, AclPermissionType, AdminClient, ResourcePatternType,
                                   ResourceType)

from mirror_env import Agent, strait_binary, unique, wait_until

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "Interop"))
from security_setup import SCRAM_PASSWORD, SCRAM_USER, SecureBroker  # noqa: E402

MIRROR_USER = "mirror"
MIRROR_PASSWORD = "mirror-Secret-9c3e1"
ADMIN_USER = "admin"
ADMIN_PASSWORD = "admin-Secret-0d5f7"
RECORDS = 60
AUTHORIZER = "authorizer.class.name=kafka.security.authorizer.AclAuthorizer\nsuper.users=User:admin;User:mirror\n"


def client(broker: SecureBroker, user: str = SCRAM_USER, password: str = SCRAM_PASSWORD, **extra) -> dict:
    return {"bootstrap.servers": broker.bootstrap("SASL_SSL"), "security.protocol": "SASL_SSL", "sasl.mechanism": "SCRAM-SHA-512",
            "sasl.username": user, "sasl.password": password, "ssl.ca.location": str(broker.certs["ca.pem"]), **extra}


def admin_client(broker: SecureBroker) -> AdminClient:
    return AdminClient(client(broker, ADMIN_USER, ADMIN_PASSWORD))


def topic_acls(broker: SecureBroker, name: str) -> set[tuple[str, str, str]]:
    admin = admin_client(broker)
    found = admin.describe_acls(AclBindingFilter(ResourceType.TOPIC, name, ResourcePatternType.LITERAL, None, None,
                                                 AclOperation.ANY, AclPermissionType.ANY)).result(timeout=10)
    return {(acl.principal, acl.operation.name, acl.permission_type.name) for acl in found}


def secured_mm2(a: SecureBroker, b: SecureBroker, secrets: Path) -> str:
    return "\n".join([
        "clusters = A, B",
        f"A.bootstrap.servers = {a.bootstrap('SASL_SSL')}",
        f"B.bootstrap.servers = {b.bootstrap('SASL_SSL')}",
        "A->B.enabled = true",
        "emit.checkpoints.interval.seconds = 1",
        "refresh.groups.interval.seconds = 1",
        "refresh.topics.interval.seconds = 1",
        "sync.topic.acls.interval.seconds = 1",
        "config.providers = file",
        "config.providers.file.class = org.apache.kafka.common.config.provider.FileConfigProvider",
        "security.protocol = SASL_SSL",
        "sasl.mechanism = SCRAM-SHA-512",
        "sasl.jaas.config = org.apache.kafka.common.security.scram.ScramLoginModule required "
        f'username="{MIRROR_USER}" password="${{file:{secrets}:mirror.password}}";',
        "A.ssl.truststore.type = PEM",
        f"A.ssl.truststore.location = {a.certs['ca.pem']}",
        "B.ssl.truststore.type = PEM",
        f"B.ssl.truststore.location = {b.certs['ca.pem']}",
        "",
    ])


def failover(config: Path, group: str, dry_run: bool) -> tuple[dict, str]:
    command = [strait_binary(), "failover", "--mm2", str(config), "--group", group, "--source", "A", "--target", "B", "--json"]
    result = subprocess.run(command + (["--dry-run"] if dry_run else []), capture_output=True, text=True, timeout=60)
    output = result.stdout + result.stderr
    if result.returncode != 0:
        return {"error": result.stderr.strip()}, output
    return json.loads(result.stdout), output


def test_mirror_over_sasl_ssl_fails_over_exactly_and_never_shows_a_password(tmp_path):
    a = SecureBroker(Path(strait_binary()), tmp_path / "A", extra=AUTHORIZER)
    b = SecureBroker(Path(strait_binary()), tmp_path / "B", extra=AUTHORIZER)
    outputs: list[str] = []
    agent = None
    try:
        for broker in (a, b):
            broker.add_user(SCRAM_USER, SCRAM_PASSWORD)
            broker.add_user(MIRROR_USER, MIRROR_PASSWORD)
            broker.add_user(ADMIN_USER, ADMIN_PASSWORD)
            broker.start()
        secrets = tmp_path / "secrets.properties"
        secrets.write_text(f"mirror.password = {MIRROR_PASSWORD}\n")
        secrets.chmod(0o600)

        topic = unique("orders")
        group = unique("billing")
        # On A: alice may read the topic and use the group; bob may do all (copied as READ);
        # carol may write (never copied).
        acls = [AclBinding(ResourceType.TOPIC, topic, ResourcePatternType.LITERAL, f"User:{SCRAM_USER}", "*", AclOperation.READ,
                           AclPermissionType.ALLOW),
                AclBinding(ResourceType.TOPIC, topic, ResourcePatternType.LITERAL, "User:bob", "*", AclOperation.ALL, AclPermissionType.ALLOW),
                AclBinding(ResourceType.TOPIC, topic, ResourcePatternType.LITERAL, "User:carol", "*", AclOperation.WRITE,
                           AclPermissionType.ALLOW),
                AclBinding(ResourceType.GROUP, group, ResourcePatternType.LITERAL, f"User:{SCRAM_USER}", "*", AclOperation.READ,
                           AclPermissionType.ALLOW)]
        admin_a, admin_b = admin_client(a), admin_client(b)
        for future in admin_a.create_acls(acls).values():
            future.result(timeout=10)
        # On B the group's ACL is the operator's; the topic's comes from the sync.
        for future in admin_b.create_acls([acls[3]]).values():
            future.result(timeout=10)
        producer = Producer(client(a, ADMIN_USER, ADMIN_PASSWORD, **{"linger.ms": 5}))
        for i in range(RECORDS):
            producer.produce(topic, f"v-{i}".encode(), partition=0)
        assert producer.flush(30) == 0

        consumer = Consumer(client(a, **{"group.id": group, "enable.auto.commit": False}))
        consumer.commit(offsets=[TopicPartition(topic, 0, 25)], asynchronous=False)
        consumer.close()

        agent = Agent(tmp_path / "agent", secured_mm2(a, b, secrets)).start()
        check = subprocess.run([strait_binary(), "check", "--mm2", str(agent.config_path)], capture_output=True, text=True, timeout=30)
        outputs.append(check.stdout + check.stderr)
        assert check.returncode == 0, check.stderr

        replica = f"A.{topic}"
        wait_until(lambda: topic_acls(b, replica) == {(f"User:{SCRAM_USER}", "READ", "ALLOW"), ("User:bob", "READ", "ALLOW")}, 60,
                   f"the topic ACLs of {replica} on B")

        def checkpointed():
            report, output = failover(agent.config_path, group, dry_run=True)
            outputs.append(output)
            return [(p["topic"], p["partition"], p["upstreamOffset"], p["offset"]) for p in report.get("partitions", [])] == [(replica, 0, 25, 25)]
        try:
            wait_until(checkpointed, 90, "the group's checkpoint on B")
        except AssertionError as error:
            raise AssertionError(f"{error}; failover says {failover(agent.config_path, group, dry_run=True)}; "
                                 f"agent log:\n{agent.log()[-3000:]}") from None
        outputs.append(agent.get("/status"))
        outputs.append(agent.get("/metrics"))

        agent.kill()
        report, output = failover(agent.config_path, group, dry_run=False)
        outputs.append(output)
        assert report.get("committed") is True, report

        reader = Consumer(client(b, **{"group.id": group, "enable.auto.commit": False, "auto.offset.reset": "earliest"}))
        try:
            reader.assign(reader.committed([TopicPartition(replica, 0)], timeout=10))
            first = []
            wait_until(lambda: first.extend(m.value().decode() for m in reader.consume(10, 0.5) if not m.error()) or bool(first),
                       30, "the first record the group reads on B")
        finally:
            reader.close()
        assert first[0] == "v-25"
    finally:
        if agent is not None:
            agent.terminate()
        for broker in (a, b):
            broker.stop()

    texts = outputs + [a.log(), b.log(), agent.log() if agent else ""]
    for secret in (MIRROR_PASSWORD, SCRAM_PASSWORD):
        leaks = [text[max(0, text.find(secret) - 200):text.find(secret) + 50] for text in texts if secret in text]
        assert not leaks, f"a password appears in output: {leaks[:2]}"
