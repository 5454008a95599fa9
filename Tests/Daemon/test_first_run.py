"""A new user's first run: the README's first command, exactly as written, in a fresh clone in a
new directory; and the daemon's behaviour when a site cannot start or a cluster is away (one line
naming the setting and exit status 1; SIGTERM and SIGINT stop it in every state)."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import time
from pathlib import Path

import pytest

from mirror_env import REPO, Broker, free_port, produce, read_all, strait_binary, unique, wait_until
from readme_commands import setup_commands

# The first build of a fresh clone compiles every dependency: minutes on a 2-core machine.
BUILD_TIMEOUT = 20 * 60


class Daemon:
    """A command run with bash in `directory`, its output in a log file."""

    def __init__(self, command: str | list[str], directory: Path, log: Path):
        self.log_path = log
        with open(log, "ab") as out:
            out.write(f"\n===== {command}\n".encode())
        args = ["bash", "-c", f"exec {command}"] if isinstance(command, str) else command
        with open(log, "ab") as out:
            self.proc = subprocess.Popen(args, cwd=directory, stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT,
                                         start_new_session=True)

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def wait_for(self, text: str, timeout: float, since: int = 0):
        def seen():
            if self.proc.poll() is not None:
                raise AssertionError(f"exited with {self.proc.returncode} before '{text}':\n{self.log()[-4000:]}")
            return text in self.log()[since:]
        wait_until(seen, timeout, f"'{text}' in the log")

    def stop(self, signum: int, timeout: float = 60) -> int:
        self.proc.send_signal(signum)
        try:
            return self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=10)
            raise AssertionError(f"{signal.Signals(signum).name} did not stop it within {timeout:.0f}s:\n{self.log()[-3000:]}")

    def kill(self):
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=10)


def port_is_free(port: int) -> bool:
    with socket.socket() as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind(("127.0.0.1", port))
            return True
        except OSError:
            return False


def fresh_clone(tmp_path: Path) -> Path:
    """A fresh clone of this repository in a new directory: made here, or, when
    STRAIT_FRESH_CLONE names one, that directory, which Tests/run-all.sh passes only when it
    runs in a clone nothing has been built or changed in yet (CI's). The first command then
    builds that clone once, and the rest of the run reuses the build."""
    given = os.environ.get("STRAIT_FRESH_CLONE")
    if given:
        clone = Path(given)
        status = subprocess.run(["git", "status", "--porcelain", "--ignored"], cwd=clone, capture_output=True, text=True, check=True)
        assert status.stdout == "", f"STRAIT_FRESH_CLONE={clone} is not a fresh clone:\n{status.stdout}"
        return clone
    clone = tmp_path / "new-user" / "strait"
    subprocess.run(["git", "clone", "--quiet", str(REPO), str(clone)], check=True)
    return clone


def test_readme_first_command_in_a_fresh_clone(tmp_path):
    command = setup_commands(REPO / "README.md")[0]
    assert command == "swift run strait demo"
    for port in (9092, 9093, 9464):
        assert port_is_free(port), f"port {port} is taken: the README's first command needs it"
    clone = fresh_clone(tmp_path)
    log = tmp_path / "first-run.log"
    daemon = Daemon(command, clone, log)
    try:
        daemon.wait_for("Compiling", BUILD_TIMEOUT)
        daemon.wait_for("Build of product 'strait' complete", BUILD_TIMEOUT)
        built = time.monotonic()
        # Records flowing within 60 s of the build finishing, seen by kcat on the second site.
        wait_until(lambda: any(int(n) > 0 for n in re.findall(r"(\d+) records copied", daemon.log())), 60,
                   "a summary line with records copied")
        lines = kcat_lines("127.0.0.1:9093", "east.orders", 5)
        assert len(lines) == 5 and all(line.startswith('{"order":') for line in lines)
        assert time.monotonic() - built < 60
        values = [f"order-{i}".encode() for i in range(1000)]
        topic = unique("first")
        produce("127.0.0.1:9092", topic, [{"value": v} for v in values])
        copied = read_all("127.0.0.1:9093", f"east.{topic}", expected=len(values), timeout=60)
        assert sorted(r[3] for r in copied) == sorted(values)
        assert daemon.stop(signal.SIGTERM) == 0
        assert daemon.log().count("broker stopped cleanly") == 2
        # SIGINT stops it as well.
        mark = len(daemon.log())
        daemon = Daemon(command, clone, log)
        daemon.wait_for("records copied", 300, since=mark)
        assert daemon.stop(signal.SIGINT) == 0
    finally:
        daemon.kill()


def kcat_lines(bootstrap: str, topic: str, count: int) -> list[str]:
    result = subprocess.run(["kcat", "-b", bootstrap, "-C", "-t", topic, "-o", "beginning", "-c", str(count), "-e", "-q"],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    return result.stdout.splitlines()


def embedded_mm2(tmp_path: Path, east_port: int, west: str, east_dir: str | None = None, west_dir: str | None = None) -> Path:
    """east embedded on `east_port`; west embedded when `west_dir` is given, else external at `west`."""
    lines = ["clusters = east, west", f"east.bootstrap.servers = 127.0.0.1:{east_port}",
             f"east.embedded.data.dir = {east_dir or tmp_path / 'data' / 'east'}", f"west.bootstrap.servers = {west}",
             "east->west.enabled = true"]
    if west_dir:
        lines.append(f"west.embedded.data.dir = {west_dir}")
    path = tmp_path / "mm2.properties"
    path.write_text("\n".join(lines) + "\n")
    return path


def run_to_exit(config: Path, timeout: float = 60) -> subprocess.CompletedProcess:
    return subprocess.run([strait_binary(), "run", "--mm2", str(config)], capture_output=True, text=True, timeout=timeout)


def last_line(output: str) -> str:
    return output.strip().splitlines()[-1]


def test_a_port_in_use_stops_the_daemon_with_one_line(tmp_path):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        config = embedded_mm2(tmp_path, free_port(), f"127.0.0.1:{port}", west_dir=str(tmp_path / "data" / "west"))
        result = run_to_exit(config)
    assert result.returncode == 1, result.stderr
    assert last_line(result.stderr) == (f"Error: {config}:4: west.bootstrap.servers: site west cannot start: "
                                        f"cannot listen on 127.0.0.1:{port}: Address already in use")


def test_a_data_directory_that_cannot_be_created_stops_the_daemon_with_one_line(tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory")
    config = embedded_mm2(tmp_path, free_port(), f"127.0.0.1:{free_port()}", east_dir=str(blocker / "east"))
    result = run_to_exit(config)
    assert result.returncode == 1, result.stderr
    assert last_line(result.stderr) == (f"Error: {config}:3: east.embedded.data.dir: site east cannot start: "
                                        f"cannot create directory {blocker}/east: Not a directory")


def test_missing_parent_directories_are_created(tmp_path):
    east = tmp_path / "several" / "levels" / "east"
    west = tmp_path / "other" / "west"
    config = embedded_mm2(tmp_path, free_port(), f"127.0.0.1:{free_port()}", east_dir=str(east), west_dir=str(west))
    daemon = Daemon([strait_binary(), "run", "--mm2", str(config)], tmp_path, tmp_path / "daemon.log")
    try:
        daemon.wait_for("site west listening", 60)
        assert (east / "meta.properties").exists() and (west / "meta.properties").exists()
        assert daemon.stop(signal.SIGTERM) == 0
    finally:
        daemon.kill()


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_a_signal_stops_the_daemon_while_a_cluster_is_away(tmp_path, signum):
    away = free_port()
    config = embedded_mm2(tmp_path, free_port(), f"127.0.0.1:{away}")
    daemon = Daemon([strait_binary(), "run", "--mm2", str(config)], tmp_path, tmp_path / "daemon.log")
    try:
        daemon.wait_for(f"cannot connect to 127.0.0.1:{away}", 60)
        daemon.wait_for("retrying", 30)
        assert daemon.stop(signum, timeout=45) == 0
        log = daemon.log()
        assert "connection refused" in log, log[-2000:]
        assert "SingleConnectionFailure" not in log and "errno" not in log, log[-2000:]
        assert "broker stopped cleanly" in log
    finally:
        daemon.kill()


def test_a_flow_copies_after_its_target_comes_back(tmp_path):
    """The away-cluster state is not terminal: once the target listens, the flow copies."""
    west = Broker(tmp_path / "west")
    east_port = free_port()
    config = embedded_mm2(tmp_path, east_port, west.bootstrap)
    daemon = Daemon([strait_binary(), "run", "--mm2", str(config)], tmp_path, tmp_path / "daemon.log")
    try:
        daemon.wait_for(f"cannot connect to {west.bootstrap}", 60)
        west.start()
        topic = unique("late")
        produce(f"127.0.0.1:{east_port}", topic, [{"value": b"v%d" % i} for i in range(100)])
        assert len(read_all(west.bootstrap, f"east.{topic}", expected=100, timeout=90)) == 100
        assert daemon.stop(signal.SIGTERM) == 0
    finally:
        daemon.kill()
        west.terminate()
