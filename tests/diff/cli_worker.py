"""The `swift` CLI, forked per command: run by tests/diff/cli.py with the
Python of a venv that has python-swiftclient.

The `swift` console script is `swiftclient.shell:main`; this worker imports
it once and, for each command, forks a child that sets up its own working
directory, stdin, stdout and stderr (real file descriptors) and calls
`main(["swift", ...])`, exiting as the console script would. That is the
CLI's own code in a fresh process without paying Python's start and the
imports each time (a command costs milliseconds instead of half a second).

Protocol, one JSON object a line: in {"argv", "cwd", "stdin" (base64),
"env"}; out {"exit", "stdout", "stderr"} (base64).
"""

import base64
import json
import os
import signal
import sys
import tempfile

import swiftclient.shell  # noqa: F401  (imported once, before any fork)


TIMEOUT = 60  # seconds a command may take: then SIGALRM ends it (exit -14)


def child(req, tmp):
    signal.alarm(TIMEOUT)
    os.chdir(req["cwd"])
    os.environ.clear()
    os.environ.update(req["env"])
    for fd, name, flags in ((0, "in", os.O_RDONLY), (1, "out", os.O_WRONLY | os.O_CREAT),
                            (2, "err", os.O_WRONLY | os.O_CREAT)):
        f = os.open(os.path.join(tmp, name), flags, 0o600)
        os.dup2(f, fd)
        os.close(f)
    sys.stdin = open(0, "r", closefd=False)
    code = 0
    try:
        code = swiftclient.shell.main(req["argv"])
    except SystemExit as e:
        code = e.code
    except BaseException:  # noqa: BLE001  (as Python would: a traceback, 1)
        import traceback
        traceback.print_exc()
        code = 1
    if code is None:
        code = 0
    elif not isinstance(code, int):
        print(code, file=sys.stderr)
        code = 1
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


def main():
    out = sys.stdout
    for line in sys.stdin.buffer:
        req = json.loads(line)
        with tempfile.TemporaryDirectory(prefix="stowage-diff-cli-") as tmp:
            with open(os.path.join(tmp, "in"), "wb") as f:
                f.write(base64.b64decode(req["stdin"]))
            out.flush()
            pid = os.fork()
            if pid == 0:
                try:
                    child(req, tmp)
                finally:
                    os._exit(120)
            _, status = os.waitpid(pid, 0)
            code = os.waitstatus_to_exitcode(status)
            res = {"exit": code}
            for name in ("out", "err"):
                with open(os.path.join(tmp, name), "rb") as f:
                    res["std" + name] = base64.b64encode(f.read()).decode()
        out.write(json.dumps(res) + "\n")
        out.flush()


if __name__ == "__main__":
    main()
