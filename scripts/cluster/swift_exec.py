"""Run one of Swift's programs against a swift.conf that is not /etc/swift's.

    <swift-venv>/bin/python swift_exec.py SWIFT_CONF PROGRAM [ARGS...]

PROGRAM is the name of a script in the venv's bin/ (swift-object-server,
swift-object-replicator, swift-dispersion-report, swift-object-info, ...) or
the path of a Python file. Swift's servers, daemons and tools read the hash
path salt and the storage policies from utils.SWIFT_CONF_FILE, fixed to
/etc/swift/swift.conf; only a few tools take a --swift-dir. Pointing that
module global at the cluster's own file before the program imports anything
else lets every node of the harness use its swift.conf without touching /etc.
"""

import os
import runpy
import sys


def main() -> None:
    if len(sys.argv) < 3:
        sys.stderr.write(__doc__)
        sys.exit(2)
    conf, program, args = sys.argv[1], sys.argv[2], sys.argv[3:]
    if not os.path.isfile(conf):
        sys.exit(f"swift_exec: no such swift.conf: {conf}")
    for extra in os.environ.get("SWIFT_EXEC_EXTRA_PATH", "").split(os.pathsep):
        if extra:
            sys.path.append(extra)
    from swift.common import utils
    utils.SWIFT_CONF_FILE = conf
    if os.sep in program:
        path = program
    else:
        path = os.path.join(os.path.dirname(sys.executable), program)
    if not os.path.isfile(path):
        sys.exit(f"swift_exec: no such program: {path}")
    sys.argv = [program] + args
    runpy.run_path(path, run_name="__main__")


if __name__ == "__main__":
    main()
