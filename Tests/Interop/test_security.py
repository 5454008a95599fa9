"""Security: TLS listeners, SASL (SCRAM-SHA-512/256 over SASL_SSL, PLAIN over SASL_PLAINTEXT),
required client certificates, SCRAM users managed through the admin API, and server.properties
errors, with confluent-kafka (librdkafka 2.x), kafka-python 3.0.12, kcat (librdkafka 2.0.2) and raw
frames.

One secured broker (``security_setup.SecureBroker``: PLAINTEXT, SASL_SSL with SCRAM, SASL_PLAINTEXT
with PLAIN for carol, SSL with client certificates required) serves the module; SCRAM user alice
is added with ``strait user add`` before it starts. The ``secure`` fixture hands it to one test: if
an earlier test crashed it, it is started again first (same data directory, same ports, the log is
appended), and after the test it must still be running, so a crash is reported by the test that
caused it and does not fail the tests after it. The config-error tests start their own
``strait broker --config`` processes. The last test reads the broker's whole log for passwords.

kafka-python 3.0.12 does not raise SaslAuthenticationFailedError from its public classes: the
bootstrap loop catches it, logs it (``kafka.net.connection``: "Connection lost: [Error 58]
SaslAuthenticationFailedError: ...") and retries until ``bootstrap_timeout_ms``, then raises
``KafkaTimeoutError('Unable to bootstrap from ...')``. The tests assert that exception type and the
logged authentication failure (with the broker's message) as the only cause.
"""

from __future__ import annotations

import gc
import logging
import os
import signal
import socket
import ssl
import subprocess
import time
from pathlib import Path

import kafka.errors
import pytest
from confluent_kafka import OFFSET_BEGINNING, Consumer, KafkaError, KafkaException, Producer, TopicPartition
from confluent_kafka.admin import (AdminClient, ScramCredentialInfo, ScramMechanism, UserScramCredentialDeletion,
                                   UserScramCredentialUpsertion)
from kafka import KafkaAdminClient, KafkaConsumer, KafkaProducer
from kafka import TopicPartition as KTopicPartition
from kafka.protocol.metadata import ApiVersionsRequest, ApiVersionsResponse, MetadataRequest

from conftest import strait_binary
from interop import Disconnected, Wire, unique_topic, wait_until
from security_setup import (crash_guarded, log_excerpt, present,
                            PLAIN_PASSWORD, PLAIN_USER, SCRAM_PASSWORD, SCRAM_USER, SecureBroker, free_port,
                            make_certificates)

TIMEOUT = 15.0
RECORDS = 20

# Every secret given to the module's broker (test_no_password_in_broker_log checks them all).
WRONG_PASSWORD = "wrong-Secret-5e8d1"
UNKNOWN_USER = "mallory"
UNKNOWN_PASSWORD = "mallory-Secret-2b7f0"
BOB = "bob"
BOB_PASSWORD = "bob-Secret-93c7e"
DAVE = "dave"
DAVE_PASSWORD = "dave-Secret-1a2b3"
SECRETS = {"SCRAM_PASSWORD": SCRAM_PASSWORD, "PLAIN_PASSWORD": PLAIN_PASSWORD, "WRONG_PASSWORD": WRONG_PASSWORD,
           "UNKNOWN_PASSWORD": UNKNOWN_PASSWORD, "BOB_PASSWORD": BOB_PASSWORD, "DAVE_PASSWORD": DAVE_PASSWORD}

P12_PASSWORD = "p12-Secret-1"   # security_setup.make_certificates writes server.p12 with it
JKS_PASSWORD = "jks-Secret-7c1d"

SCRAM_FAILED = "Authentication failed during authentication due to invalid credentials with SASL mechanism SCRAM-SHA-512"
PLAIN_FAILED = "Invalid username or password"


# ---------------------------------------------------------------------------------------------
# Fixtures
# ---------------------------------------------------------------------------------------------

def binary() -> Path:
    return present(strait_binary())


@pytest.fixture(scope="module")
def secure_broker(tmp_path_factory):
    broker = SecureBroker(binary(), tmp_path_factory.mktemp("secure"))
    broker.add_user(SCRAM_USER, SCRAM_PASSWORD)
    broker.start()
    yield broker
    gc.collect()   # client handles of the last test
    broker.stop()



@pytest.fixture
def secure(secure_broker):
    """The module's broker for one test (see the module docstring)."""
    yield from crash_guarded(secure_broker, binary)


@pytest.fixture(scope="module")
def certs(tmp_path_factory) -> dict[str, Path]:
    """Certificates for the brokers the config tests start."""
    return make_certificates(tmp_path_factory.mktemp("config-certs"))


# ---------------------------------------------------------------------------------------------
# Client configurations
# ---------------------------------------------------------------------------------------------

def ck_scram(broker: SecureBroker, user=SCRAM_USER, password=SCRAM_PASSWORD, mechanism="SCRAM-SHA-512", **extra) -> dict:
    return {"bootstrap.servers": broker.bootstrap("SASL_SSL"), "broker.address.family": "v4",
            "socket.timeout.ms": 10000, "log_level": 2, "security.protocol": "SASL_SSL", "sasl.mechanisms": mechanism,
            "sasl.username": user, "sasl.password": password, "ssl.ca.location": str(broker.certs["ca.pem"]),
            **extra}


def ck_plain(broker: SecureBroker, user=PLAIN_USER, password=PLAIN_PASSWORD, **extra) -> dict:
    return {"bootstrap.servers": broker.bootstrap("SASL_PLAINTEXT"), "broker.address.family": "v4",
            "socket.timeout.ms": 10000, "log_level": 2, "security.protocol": "SASL_PLAINTEXT", "sasl.mechanisms": "PLAIN",
            "sasl.username": user, "sasl.password": password, **extra}


def ck_ssl(broker: SecureBroker, **extra) -> dict:
    return {"bootstrap.servers": broker.bootstrap("SSL"), "broker.address.family": "v4",
            "socket.timeout.ms": 10000, "log_level": 2, "security.protocol": "SSL", "ssl.ca.location": str(broker.certs["ca.pem"]),
            "ssl.certificate.location": str(broker.certs["client.crt"]),
            "ssl.key.location": str(broker.certs["client.key"]), **extra}


def kp_scram(broker: SecureBroker, user=SCRAM_USER, password=SCRAM_PASSWORD) -> dict:
    return dict(bootstrap_servers=broker.bootstrap("SASL_SSL"), security_protocol="SASL_SSL",
                sasl_mechanism="SCRAM-SHA-512", sasl_plain_username=user, sasl_plain_password=password,
                ssl_cafile=str(broker.certs["ca.pem"]), request_timeout_ms=10000)


def kp_plain(broker: SecureBroker, user=PLAIN_USER, password=PLAIN_PASSWORD) -> dict:
    return dict(bootstrap_servers=broker.bootstrap("SASL_PLAINTEXT"), security_protocol="SASL_PLAINTEXT",
                sasl_mechanism="PLAIN", sasl_plain_username=user, sasl_plain_password=password,
                request_timeout_ms=10000)


def kp_ssl(broker: SecureBroker) -> dict:
    return dict(bootstrap_servers=broker.bootstrap("SSL"), security_protocol="SSL",
                ssl_cafile=str(broker.certs["ca.pem"]), ssl_certfile=str(broker.certs["client.crt"]),
                ssl_keyfile=str(broker.certs["client.key"]), request_timeout_ms=10000)


# ---------------------------------------------------------------------------------------------
# Produce and consume helpers (bounded)
# ---------------------------------------------------------------------------------------------

def values_for(topic: str, n: int = RECORDS) -> list[bytes]:
    return [f"{topic}/{i}".encode() for i in range(n)]


def ck_produce(conf: dict, topic: str, values: list[bytes]) -> list[int]:
    """Produces values to partition 0; returns their offsets (asserting every delivery)."""
    errors = []
    producer = Producer({**conf, "acks": "all", "linger.ms": 5, "message.timeout.ms": 15000,
                         "error_cb": errors.append})
    delivered: list = [None] * len(values)

    def on_delivery(i):
        def cb(err, msg):
            delivered[i] = err if err is not None else msg.offset()
        return cb

    for i, value in enumerate(values):
        producer.produce(topic, value=value, partition=0, on_delivery=on_delivery(i))
        producer.poll(0)
    remaining = producer.flush(TIMEOUT + 5)
    del producer
    assert remaining == 0, f"{remaining} records not delivered; client errors: {errors[:5]}"
    failures = [d for d in delivered if not isinstance(d, int)]
    assert not failures, f"delivery failures: {failures[:5]}; client errors: {errors[:5]}"
    return delivered


def ck_consume(conf: dict, topic: str, count: int) -> list:
    """Reads partition 0 from the beginning until count records arrived (bounded)."""
    errors = []
    consumer = Consumer({**conf, "group.id": unique_topic("security-group"), "enable.auto.commit": False,
                         "fetch.wait.max.ms": 100, "error_cb": errors.append})
    got = []
    try:
        consumer.assign([TopicPartition(topic, 0, OFFSET_BEGINNING)])
        deadline = time.monotonic() + TIMEOUT
        while len(got) < count and time.monotonic() < deadline:
            for m in consumer.consume(num_messages=100, timeout=0.2):
                if m.error():
                    raise KafkaException(m.error())
                got.append(m)
    finally:
        consumer.close()
        del consumer
    assert len(got) == count, (f"expected {count} records, got {len(got)} within {TIMEOUT}s; "
                               f"client errors: {[str(e) for e in errors[:5]]}")
    return got


def ck_round_trip(conf: dict, prefix: str):
    topic = unique_topic(prefix)
    values = values_for(topic)
    assert ck_produce(conf, topic, values) == list(range(RECORDS))
    got = ck_consume(conf, topic, RECORDS)
    assert [m.value() for m in got] == values
    assert [m.offset() for m in got] == list(range(RECORDS))
    assert all(m.topic() == topic and m.partition() == 0 for m in got)


def kp_round_trip(kw: dict, prefix: str):
    topic = unique_topic(prefix)
    values = values_for(topic)
    producer = KafkaProducer(**kw, acks="all", linger_ms=5)
    try:
        futures = [producer.send(topic, value=v, partition=0) for v in values]
        offsets = [f.get(timeout=TIMEOUT).offset for f in futures]
    finally:
        producer.close(timeout=5)
    assert offsets == list(range(RECORDS))

    consumer = KafkaConsumer(**kw, enable_auto_commit=False, group_id=None)
    got = []
    try:
        tp = KTopicPartition(topic, 0)
        consumer.assign([tp])
        consumer.seek_to_beginning(tp)
        deadline = time.monotonic() + TIMEOUT
        while len(got) < RECORDS and time.monotonic() < deadline:
            for records in consumer.poll(timeout_ms=200).values():
                got.extend(records)
    finally:
        consumer.close(autocommit=False)
    assert len(got) == RECORDS, f"expected {RECORDS} records, got {len(got)} within {TIMEOUT}s"
    assert [r.value for r in got] == values
    assert [r.offset for r in got] == list(range(RECORDS))


def ck_auth_errors(conf: dict, timeout: float = 10.0) -> list[KafkaError]:
    """Starts an AdminClient and collects what its error_cb reports until the first
    _AUTHENTICATION error (bounded)."""
    errors: list[KafkaError] = []
    admin = AdminClient({**conf, "error_cb": errors.append, "log_level": 0})
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and not any(e.code() == KafkaError._AUTHENTICATION for e in errors):
        admin.poll(0.1)
    del admin
    return errors


def assert_ck_auth_failure(conf: dict, text: str):
    errors = ck_auth_errors(conf)
    auth = [e for e in errors if e.code() == KafkaError._AUTHENTICATION]
    assert auth, f"no _AUTHENTICATION error reported; errors seen: {[str(e) for e in errors]}"
    other = [e for e in errors if e.code() not in (KafkaError._AUTHENTICATION, KafkaError._ALL_BROKERS_DOWN)]
    assert not other, f"unexpected errors besides the authentication failure: {[str(e) for e in other]}"
    for e in auth:
        assert "Authentication failed" in e.str() and text in e.str(), e.str()


def assert_kp_auth_failure(caplog, kw: dict, text: str):
    caplog.clear()
    caplog.set_level(logging.WARNING, logger="kafka")
    started = time.monotonic()
    with pytest.raises(kafka.errors.KafkaTimeoutError) as info:
        KafkaAdminClient(**kw, bootstrap_timeout_ms=3000)
    assert type(info.value) is kafka.errors.KafkaTimeoutError
    assert "Unable to bootstrap" in str(info.value), str(info.value)
    assert time.monotonic() - started < 20
    messages = [r.getMessage() for r in caplog.records if r.name.startswith("kafka")]
    failures = [m for m in messages if "Connection lost" in m]
    assert failures, f"kafka-python logged no lost connection; its log: {messages[:10]}"
    # Every attempt that got as far as the login failed there; on a loaded machine an attempt may
    # also time out before its login (kafka-python's ApiVersions check), which proves nothing.
    logins = [m for m in failures if "Timeout" not in m and "timed out" not in m]
    assert logins, f"no attempt reached the login: {failures}"
    for m in logins:
        assert "SaslAuthenticationFailedError" in m and "Authentication failed" in m and text in m, m


# ---------------------------------------------------------------------------------------------
# 1-5: clients over each secured listener
# ---------------------------------------------------------------------------------------------

def test_confluent_scram_sha512_sasl_ssl_produce_consume(secure):
    conf = ck_scram(secure)
    admin = AdminClient(conf)
    md = admin.list_topics(timeout=10)
    del admin
    # The broker advertises the listener the client came in on.
    assert [f"{b.host}:{b.port}" for b in md.brokers.values()] == [secure.bootstrap("SASL_SSL")], md.brokers
    ck_round_trip(conf, "sec-ck-scram")


def test_confluent_scram_sha256_sasl_ssl_login(secure):
    """strait user add stores both SCRAM mechanisms; SCRAM-SHA-256 logs in and produces."""
    conf = ck_scram(secure, mechanism="SCRAM-SHA-256")
    topic = unique_topic("sec-ck-sha256")
    assert ck_produce(conf, topic, values_for(topic, 3)) == [0, 1, 2]


def test_kafka_python_scram_sha512_sasl_ssl_produce_consume(secure):
    kp_round_trip(kp_scram(secure), "sec-kp-scram")


def test_confluent_plain_sasl_plaintext_produce_consume(secure):
    ck_round_trip(ck_plain(secure), "sec-ck-plain")


def test_kafka_python_plain_sasl_plaintext_produce_consume(secure):
    kp_round_trip(kp_plain(secure), "sec-kp-plain")


def test_confluent_ssl_client_certificate_produce_consume(secure):
    ck_round_trip(ck_ssl(secure), "sec-ck-ssl")


def test_kafka_python_ssl_client_certificate_produce_consume(secure):
    kp_round_trip(kp_ssl(secure), "sec-kp-ssl")


def kcat(*args, stdin: str | None = None, timeout: float = 30.0) -> str:
    path = os.environ.get("KCAT_BIN", "kcat")
    cmd = [path, "-X", "broker.address.family=v4", "-m", "5", *args]
    try:
        proc = subprocess.run(cmd, input=stdin, capture_output=True, text=True, timeout=timeout)
    except FileNotFoundError:
        pytest.fail(f"kcat not found ({path!r}; install the kcat package or set KCAT_BIN)", pytrace=False)
    assert proc.returncode == 0, (f"kcat {' '.join(args)} exited {proc.returncode}\n"
                                  f"stdout: {proc.stdout[-2000:]}\nstderr: {proc.stderr[-2000:]}")
    return proc.stdout


def kcat_round_trip(connection: list[str], prefix: str):
    topic = unique_topic(prefix)
    lines = [f"{topic} line {i}" for i in range(RECORDS)]
    kcat(*connection, "-P", "-t", topic, "-p", "0", stdin="\n".join(lines) + "\n")
    out = kcat(*connection, "-C", "-t", topic, "-p", "0", "-o", "beginning", "-e", "-f", "%o %s\n")
    assert out.splitlines() == [f"{i} {line}" for i, line in enumerate(lines)]


def test_kcat_scram_sha512_sasl_ssl_produce_consume(secure):
    # kcat's librdkafka 2.0.2 repeats its client nonce in the SCRAM client-final message (r=cnonce +
    # server nonce, fixed in librdkafka 2.6.1, confluentinc/librdkafka#4895). Kafka before 3.8.1
    # did not check that nonce, 3.8.1-3.9 accept a nonce that ends with the server's, and 4.x
    # requires RFC 5802's exact match and refuses this login.
    kcat_round_trip(["-b", secure.bootstrap("SASL_SSL"), "-X", "security.protocol=SASL_SSL",
                     "-X", "sasl.mechanisms=SCRAM-SHA-512", "-X", f"sasl.username={SCRAM_USER}",
                     "-X", f"sasl.password={SCRAM_PASSWORD}", "-X", f"ssl.ca.location={secure.certs['ca.pem']}"],
                    "sec-kcat-scram")


def test_kcat_plain_sasl_plaintext_produce_consume(secure):
    kcat_round_trip(["-b", secure.bootstrap("SASL_PLAINTEXT"), "-X", "security.protocol=SASL_PLAINTEXT",
                     "-X", "sasl.mechanisms=PLAIN", "-X", f"sasl.username={PLAIN_USER}",
                     "-X", f"sasl.password={PLAIN_PASSWORD}"], "sec-kcat-plain")


# ---------------------------------------------------------------------------------------------
# 6: failed logins
# ---------------------------------------------------------------------------------------------

def test_confluent_scram_wrong_password_and_unknown_user_fail(secure):
    assert_ck_auth_failure(ck_scram(secure, password=WRONG_PASSWORD), SCRAM_FAILED)
    assert_ck_auth_failure(ck_scram(secure, user=UNKNOWN_USER, password=UNKNOWN_PASSWORD), SCRAM_FAILED)


def test_confluent_plain_wrong_password_fails(secure):
    assert_ck_auth_failure(ck_plain(secure, password=WRONG_PASSWORD), PLAIN_FAILED)


def test_kafka_python_scram_wrong_password_and_unknown_user_fail(secure, caplog):
    assert_kp_auth_failure(caplog, kp_scram(secure, password=WRONG_PASSWORD), SCRAM_FAILED)
    assert_kp_auth_failure(caplog, kp_scram(secure, user=UNKNOWN_USER, password=UNKNOWN_PASSWORD), SCRAM_FAILED)


def test_kafka_python_plain_wrong_password_fails(secure, caplog):
    assert_kp_auth_failure(caplog, kp_plain(secure, password=WRONG_PASSWORD), PLAIN_FAILED)


# ---------------------------------------------------------------------------------------------
# 7: unauthenticated requests, TLS without a client certificate
# ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize("version", [0, 3])
def test_sasl_listener_answers_api_versions_then_closes_on_metadata(secure, version):
    with Wire(secure.bootstrap("SASL_PLAINTEXT")) as w:
        kw = {"client_software_name": "strait-interop", "client_software_version": "1.0"} if version >= 3 else {}
        resp = w.request(ApiVersionsRequest(**kw), version, ApiVersionsResponse)
        assert resp.error_code == 0
        keys = {k.api_key: (k.min_version, k.max_version) for k in resp.api_keys}
        assert 17 in keys, f"SaslHandshake (17) not listed: {sorted(keys)}"
        assert 36 in keys, f"SaslAuthenticate (36) not listed: {sorted(keys)}"
        assert keys[17][0] <= 1 <= keys[17][1] and keys[36][0] <= 1 <= keys[36][1], keys
        w.send(MetadataRequest(topics=None, allow_auto_topic_creation=False), 1)
        try:
            frame = w.recv_frame(timeout=5)
        except Disconnected:
            frame = None
        assert frame is None, f"the broker answered a Metadata request before authentication: {frame[:64]!r}"
        assert w.wait_closed(1)


def tls_wire(broker: SecureBroker, with_certificate: bool) -> Wire:
    host, port = broker.bootstrap("SSL").rsplit(":", 1)
    context = ssl.create_default_context(cafile=str(broker.certs["ca.pem"]))
    if with_certificate:
        context.load_cert_chain(str(broker.certs["client.crt"]), str(broker.certs["client.key"]))
    w = Wire(broker.bootstrap("SSL"))
    try:
        w.sock = context.wrap_socket(w.sock, server_hostname=host)
    except BaseException:
        w.close()
        raise
    return w


def test_ssl_listener_requires_client_certificate(secure):
    # With the certificate, the raw TLS connection is served.
    with tls_wire(secure, with_certificate=True) as w:
        resp = w.request(ApiVersionsRequest(), 0, ApiVersionsResponse)
        assert resp.error_code == 0 and resp.api_keys

    # Without it, the handshake fails (TLS 1.2), or the broker's alert arrives on the first read
    # (TLS 1.3 completes the client side first); nothing is ever answered.
    outcome = None
    try:
        w = tls_wire(secure, with_certificate=False)
    except ssl.SSLError as exc:
        outcome = f"handshake failed: {exc}"
    else:
        with w:
            try:
                w.send(ApiVersionsRequest(), 0)
                data = w.sock.recv(4096)
            except ssl.SSLError as exc:
                outcome = f"read failed: {exc}"
            except (ConnectionResetError, BrokenPipeError, Disconnected) as exc:
                outcome = f"reset: {exc!r}"
            else:
                assert data == b"", f"the broker answered a client without a certificate: {data[:64]!r}"
                outcome = "closed"
    assert outcome is not None


# ---------------------------------------------------------------------------------------------
# 8: SCRAM users through the admin API
# ---------------------------------------------------------------------------------------------

def describe_scram(admin: AdminClient, user: str):
    """(mechanism, iterations) pairs of a user, or the KafkaError the describe failed with."""
    (future,) = admin.describe_user_scram_credentials([user]).values()
    try:
        description = future.result(TIMEOUT)
    except KafkaException as exc:
        return exc.args[0]
    return sorted((info.mechanism, info.iterations) for info in description.scram_credential_infos)


def test_scram_users_through_admin_api(secure):
    admin = AdminClient(ck_scram(secure))
    try:
        futures = admin.alter_user_scram_credentials([UserScramCredentialUpsertion(
            BOB, ScramCredentialInfo(ScramMechanism.SCRAM_SHA_512, 8192), password=BOB_PASSWORD.encode())])
        assert list(futures) == [BOB]
        assert futures[BOB].result(TIMEOUT) is None
        assert describe_scram(admin, BOB) == [(ScramMechanism.SCRAM_SHA_512, 8192)]

        # Bob logs in with SCRAM-SHA-512 and produces.
        topic = unique_topic("sec-bob")
        assert ck_produce(ck_scram(secure, user=BOB, password=BOB_PASSWORD), topic, values_for(topic, 5)) == list(range(5))

        # Deleted, bob cannot log in any more.
        futures = admin.alter_user_scram_credentials([UserScramCredentialDeletion(BOB, ScramMechanism.SCRAM_SHA_512)])
        assert futures[BOB].result(TIMEOUT) is None
        gone = describe_scram(admin, BOB)
        assert isinstance(gone, KafkaError) and gone.code() == KafkaError.RESOURCE_NOT_FOUND, gone
        assert_ck_auth_failure(ck_scram(secure, user=BOB, password=BOB_PASSWORD), SCRAM_FAILED)

        # Kafka's minimum is 4096 iterations: 1000 is UNACCEPTABLE_CREDENTIAL and nothing is stored.
        futures = admin.alter_user_scram_credentials([UserScramCredentialUpsertion(
            DAVE, ScramCredentialInfo(ScramMechanism.SCRAM_SHA_512, 1000), password=DAVE_PASSWORD.encode())])
        with pytest.raises(KafkaException) as info:
            futures[DAVE].result(TIMEOUT)
        err = info.value.args[0]
        assert err.code() == KafkaError.UNACCEPTABLE_CREDENTIAL, str(err)
        absent = describe_scram(admin, DAVE)
        assert isinstance(absent, KafkaError) and absent.code() == KafkaError.RESOURCE_NOT_FOUND, absent

        # Alice (strait user add) is untouched.
        assert (ScramMechanism.SCRAM_SHA_512, 4096) in describe_scram(admin, SCRAM_USER)
    finally:
        del admin


# ---------------------------------------------------------------------------------------------
# 10: server.properties errors, ignored keys, a PKCS12 keystore
# ---------------------------------------------------------------------------------------------

def base_properties(certs: dict[str, Path], data_dir: Path, ssl_port: int, sasl_port: int) -> list[str]:
    return [
        "# A Kafka server.properties for a configuration test",
        "node.id=1",
        f"listeners=SSL://127.0.0.1:{ssl_port},SASL_PLAINTEXT://127.0.0.1:{sasl_port}",
        f"log.dirs={data_dir}",
        "ssl.keystore.type=PEM",
        f"ssl.keystore.location={certs['server.pem']}",
        "ssl.truststore.type=PEM",
        f"ssl.truststore.location={certs['ca.pem']}",
        "listener.name.ssl.ssl.client.auth=required",
        "listener.name.sasl_plaintext.sasl.enabled.mechanisms=PLAIN",
        "listener.name.sasl_plaintext.plain.sasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule "
        f'required user_{PLAIN_USER}="{PLAIN_PASSWORD}";',
    ]


def write_properties(path: Path, lines: list[str]) -> Path:
    path.write_text("\n".join(lines) + "\n")
    return path


def line_of(lines: list[str], prefix: str) -> int:
    (index,) = [i for i, line in enumerate(lines) if line.startswith(prefix)]
    return index + 1


def case_unknown_key(lines, certs, root):
    return lines + ["log.retention.hourz=5"], "log.retention.hourz", ["not a Kafka broker setting"]


def case_jks_keystore(lines, certs, root):
    store = root / "server.jks"
    store.write_bytes(b"\xfe\xed\xfe\xed" + b"\x00" * 60)   # a JKS store's magic
    out = [line for line in lines if not line.startswith("ssl.keystore.")]
    out += ["ssl.keystore.type=JKS", f"ssl.keystore.location={store}", f"ssl.keystore.password={JKS_PASSWORD}"]
    return out, "ssl.keystore.type", ["keytool", "PKCS12"]


def case_acl_authorizer(lines, certs, root):
    return (lines + ["authorizer.class.name=com.example.HomeMadeAuthorizer"], "authorizer.class.name",
            ["is not supported", "kafka.security.authorizer.AclAuthorizer"])


def case_gssapi(lines, certs, root):
    out = [line.replace("sasl.enabled.mechanisms=PLAIN", "sasl.enabled.mechanisms=GSSAPI") for line in lines]
    return out, "listener.name.sasl_plaintext.sasl.enabled.mechanisms", ["GSSAPI"]


@pytest.mark.parametrize("case", [case_unknown_key, case_jks_keystore, case_acl_authorizer, case_gssapi],
                         ids=["unknown-key", "jks-keystore", "acl-authorizer", "gssapi"])
def test_config_error_refused_with_one_line(certs, tmp_path, case):
    lines, key, fragments = case(base_properties(certs, tmp_path / "data", free_port(), free_port()), certs, tmp_path)
    path = write_properties(tmp_path / "server.properties", lines)
    number = line_of(lines, key + "=")
    proc = subprocess.run([str(binary()), "broker", "--config", str(path)], stdin=subprocess.DEVNULL,
                          capture_output=True, text=True, timeout=20)
    stderr = [line for line in proc.stderr.splitlines() if line.strip()]
    detail = f"exit {proc.returncode}; stderr:\n{proc.stderr[-2000:]}\nstdout:\n{proc.stdout[-1000:]}"
    assert proc.returncode != 0, detail
    assert len(stderr) == 1, detail
    (message,) = stderr
    short_key = key.removeprefix("listener.name.sasl_plaintext.")
    assert short_key in message, detail
    for fragment in fragments:
        assert fragment in message, detail
    assert JKS_PASSWORD not in proc.stderr + proc.stdout
    assert f"{path}:{number}:" in message, f"the message does not name {path}:{number}; {detail}"


class ConfigBroker:
    """strait broker --config FILE, started and stopped (SIGTERM, then SIGKILL) by a with block."""

    def __init__(self, config: Path, log: Path, port: int):
        self.config, self.log_path, self.port = config, log, port
        self.proc: subprocess.Popen | None = None
        self.returncode: int | None = None

    def __enter__(self):
        with open(self.log_path, "ab") as log:
            self.proc = subprocess.Popen([str(binary()), "broker", "--config", str(self.config)],
                                         stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                                         start_new_session=True)
        deadline = time.monotonic() + 30
        while True:
            code = self.proc.poll()
            assert code is None, f"broker exited with {code}:\n{self.log()}"
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5):
                    return self
            except OSError:
                if time.monotonic() > deadline:
                    self.__exit__()
                    raise AssertionError(f"broker did not listen on {self.port} within 30 s:\n{self.log()}")
                time.sleep(0.05)

    def __exit__(self, *exc):
        if self.proc is not None and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(timeout=10)
        if self.proc is not None:
            self.returncode = self.proc.returncode

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""


def test_config_ignored_kafka_key_warns_and_broker_starts(certs, tmp_path):
    ssl_port, sasl_port = free_port(), free_port()
    lines = base_properties(certs, tmp_path / "data", ssl_port, sasl_port) + ["num.network.threads=8"]
    path = write_properties(tmp_path / "server.properties", lines)
    number = line_of(lines, "num.network.threads=")
    broker = ConfigBroker(path, tmp_path / "broker.log", ssl_port)
    with broker:
        # The SASL_PLAINTEXT listener serves carol.
        with Wire(f"127.0.0.1:{sasl_port}") as w:
            assert w.request(ApiVersionsRequest(), 0, ApiVersionsResponse).error_code == 0
        warnings = [line for line in broker.log().splitlines() if "num.network.threads" in line]
    assert len(warnings) == 1, broker.log()
    (warning,) = warnings
    assert "warning" in warning and f"{path}:{number}: num.network.threads" in warning and "ignored" in warning, warning
    assert broker.returncode == 0, f"exit {broker.returncode} after SIGTERM:\n{broker.log()}"


def test_config_pkcs12_keystore_serves_tls(certs, tmp_path):
    port = free_port()
    lines = [
        "# TLS from a PKCS12 keystore, no client certificates",
        "node.id=1",
        f"listeners=SSL://127.0.0.1:{port}",
        f"log.dirs={tmp_path / 'data'}",
        "ssl.keystore.type=PKCS12",
        f"ssl.keystore.location={certs['server.p12']}",
        f"ssl.keystore.password={P12_PASSWORD}",
    ]
    path = write_properties(tmp_path / "server.properties", lines)
    broker = ConfigBroker(path, tmp_path / "broker.log", port)
    with broker:
        errors = []
        admin = AdminClient({"bootstrap.servers": f"127.0.0.1:{port}", "broker.address.family": "v4",
                             "security.protocol": "SSL", "ssl.ca.location": str(certs["ca.pem"]),
                             "error_cb": errors.append})
        try:
            md = admin.list_topics(timeout=10)
        finally:
            del admin
            gc.collect()
        assert [f"{b.host}:{b.port}" for b in md.brokers.values()] == [f"127.0.0.1:{port}"], md.brokers
        assert not [e for e in errors if e.code() != KafkaError._ALL_BROKERS_DOWN], [str(e) for e in errors]
    assert P12_PASSWORD not in broker.log()
    assert broker.returncode == 0, f"exit {broker.returncode} after SIGTERM:\n{broker.log()}"


# ---------------------------------------------------------------------------------------------
# 9 (last): no secret in the broker's data directory or log
# ---------------------------------------------------------------------------------------------

def test_no_password_in_data_dir(secure_broker):
    """SCRAM credentials are stored salted and hashed, never as the password."""
    files = [path for path in secure_broker.data_dir.rglob("*") if path.is_file()]
    assert files
    leaked = sorted({f"{name} in {path.relative_to(secure_broker.data_dir)}"
                     for path in files for name, secret in SECRETS.items() if secret.encode() in path.read_bytes()})
    assert not leaked, leaked


def test_no_password_in_broker_log(secure_broker):
    log = secure_broker.log()
    assert "broker listening" in log
    leaked = {name: [line for line in log.splitlines() if secret in line][:3]
              for name, secret in SECRETS.items() if secret in log}
    assert not leaked, f"passwords in the broker log: {leaked}"
