"""`strait demo`: two sites on 127.0.0.1:9092 and 9093, a flow, a trickle of records and a live
view, with standard output a pipe (plain summary lines) and a terminal (a redrawn screen)."""

from __future__ import annotations

import os
import pty
import re
import select
import signal
import subprocess
import time
from pathlib import Path

import pytest

from mirror_env import produce, read_all, strait_binary, unique, wait_until
from test_first_run import Daemon, kcat_lines, port_is_free

PORTS = (9092, 9093, 9464)
SUMMARY = re.compile(r"east->west: ([\d.]+) records/s, .*/s, lag (\d+), p99 latency (\S+ m?s|-), "
                     r"last checkpoint (.*), (\d+) records copied")


@pytest.fixture(autouse=True)
def demo_ports_free():
    for port in PORTS:
        assert port_is_free(port), f"port {port} is taken: strait demo needs it"


def test_demo_with_a_pipe_prints_summary_lines_and_copies(tmp_path):
    demo = Daemon([strait_binary(), "demo"], tmp_path, tmp_path / "demo.log")
    try:
        demo.wait_for("Status page: http://127.0.0.1:9464/", 60)
        data = re.search(r"Data: (\S+) \(removed on exit\)", demo.log()).group(1)
        assert Path(data).is_dir()

        def flowing():
            matches = SUMMARY.findall(demo.log())
            return matches and int(matches[-1][4]) > 0 and float(matches[-1][0]) > 0 and matches[-1]
        last = wait_until(flowing, 60, "a summary line with records flowing")
        assert last[3].endswith("ago (1 group)") or last[3] == "none yet"
        wait_until(lambda: (m := SUMMARY.findall(demo.log())) and m[-1][3].endswith("ago (1 group)"), 60, "a checkpoint of demo-readers")

        # The demo's own records, through kcat on the second site.
        lines = kcat_lines("127.0.0.1:9093", "east.orders", 10)
        assert len(lines) == 10 and all(line.startswith('{"order":') for line in lines)
        # A topic any client creates on east is picked up within 10 s (after its creation).
        topic = unique("mine")
        produce("127.0.0.1:9092", topic, [{"value": b"v%d" % i} for i in range(100)])
        assert len(read_all("127.0.0.1:9093", f"east.{topic}", expected=100, timeout=30)) == 100

        assert demo.stop(signal.SIGINT) == 0
        assert not Path(data).exists(), "the temporary data directory is removed on exit"
        assert "\x1b[" not in demo.log(), "no terminal codes when the output is not a terminal"
    finally:
        demo.kill()


def test_demo_in_a_terminal_redraws_a_live_view(tmp_path):
    main, child = pty.openpty()
    data = tmp_path / "kept"
    proc = subprocess.Popen([strait_binary(), "demo", "--data-dir", str(data)], stdin=child, stdout=child, stderr=child,
                            start_new_session=True)
    os.close(child)
    output = b""
    try:
        deadline = time.monotonic() + 90
        screens = []
        while time.monotonic() < deadline:
            ready, _, _ = select.select([main], [], [], 0.5)
            if ready:
                try:
                    output += os.read(main, 65536)
                except OSError:
                    break
            screens = [s for s in output.decode(errors="replace").split("\x1b[H") if "east->west" in s and "RECORDS/S" in s]
            copied = [re.search(r"east->west\s+([\d.]+)\s+.*?\s(\d+)\x1b\[K", s) for s in screens]
            if len([c for c in copied if c and int(c.group(2)) > 0]) >= 3:
                break
        assert len(screens) >= 3, output.decode(errors="replace")[-3000:]
        last = screens[-1]
        for expected in ("kcat -b 127.0.0.1:9092 -L", "kcat -b 127.0.0.1:9093 -C -t east.orders", "http://127.0.0.1:9464/",
                         "FLOW", "RECORDS/S", "BYTES/S", "LAG", "P99 LATENCY", "LAST CHECKPOINT", "east listening", "west listening"):
            assert expected in last, f"{expected!r} not in the screen:\n{last}"
        # Redrawn in place: screens follow each other, and no log lines between them.
        assert "info strait" not in output.decode(errors="replace")
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=60) == 0
        assert (data / "east" / "meta.properties").exists(), "--data-dir is kept"
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=10)
        os.close(main)
