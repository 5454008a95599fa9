"""The demo's memory over time: runs `strait demo` (the README's first command, as the built
binary) for a number of minutes and prints its resident set size every 30 seconds, then stops it
with SIGINT. The demo produces about 20 records a second, copies them, checkpoints a group and
serves its status page, which this script also loads every sample (as a browser would).

    python3 Tests/Benchmarks/demo_memory.py [--minutes 10] [--binary .build/debug/strait]
"""

from __future__ import annotations

import argparse
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def rss_kb(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError("no VmRSS")


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--minutes", type=float, default=10)
    parser.add_argument("--binary", default=str(REPO / ".build" / "debug" / "strait"))
    args = parser.parse_args()
    demo = subprocess.Popen([args.binary, "demo"], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    start = time.monotonic()
    samples = []
    try:
        while time.monotonic() - start < args.minutes * 60:
            time.sleep(30)
            for path in ("/", "/status", "/metrics"):
                urllib.request.urlopen(f"http://127.0.0.1:9464{path}", timeout=10).read()
            samples.append(rss_kb(demo.pid))
            print(f"{(time.monotonic() - start) / 60:5.1f} min  RSS {samples[-1] / 1024:6.1f} MiB", flush=True)
    finally:
        demo.send_signal(signal.SIGINT)
        code = demo.wait(timeout=60)
    print(f"after {args.minutes:g} min: RSS {samples[-1] / 1024:.1f} MiB (max {max(samples) / 1024:.1f} MiB, "
          f"first sample {samples[0] / 1024:.1f} MiB); exit status {code}")
    return 0 if code == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
