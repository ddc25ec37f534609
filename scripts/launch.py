"""Run several commands as one: the web server and the job consumer for `make run` and
`make serve`. Ctrl-C or SIGTERM stops them all; when one of them ends, the others are stopped
too and its exit code is returned.

    python scripts/launch.py "web=flask run" "jobs=flask jobs worker"

Each child runs in its own process group, so the terminal's Ctrl-C reaches only this launcher,
which then sends SIGTERM to every child once: the web server stops, the job consumer stops at
once and marks a job it was running as interrupted (it can be started again from its page).
"""

from __future__ import annotations

import shlex
import signal
import subprocess
import sys
import time

STOP_TIMEOUT = 20  # seconds a child gets after SIGTERM before it is killed


def parse(args: list[str]) -> list[tuple[str, list[str]]]:
    commands = []
    for arg in args:
        name, sep, command = arg.partition("=")
        if not sep or not name or not command.strip():
            sys.exit(f"usage: launch.py NAME=COMMAND ... (got {arg!r})")
        commands.append((name, shlex.split(command)))
    if not commands:
        sys.exit("usage: launch.py NAME=COMMAND ...")
    return commands


def stop(children: dict[str, subprocess.Popen]) -> None:
    for child in children.values():
        if child.poll() is None:
            child.send_signal(signal.SIGTERM)
    deadline = time.monotonic() + STOP_TIMEOUT
    for name, child in children.items():
        try:
            child.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            print(f"launch: {name} did not stop in {STOP_TIMEOUT} s; killing it", file=sys.stderr)
            child.kill()
            child.wait()


def main(argv: list[str]) -> int:
    commands = parse(argv)
    stopping = {"signal": None}

    def on_signal(signum, _frame):
        stopping["signal"] = signum

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    children: dict[str, subprocess.Popen] = {}
    try:
        for name, command in commands:
            children[name] = subprocess.Popen(command, start_new_session=True)
        while stopping["signal"] is None:
            for name, child in children.items():
                code = child.poll()
                if code is not None:
                    print(
                        f"launch: {name} exited with {code}; stopping the others", file=sys.stderr
                    )
                    stop(children)
                    return code or 1
            time.sleep(0.2)
    finally:
        stop(children)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
