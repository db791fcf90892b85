"""``python3 -m epochwatt ...``: the epochwatt command line (docs/cli.md), the same program as the
``epochwatt`` command. The package carries its own copy in ``epochwatt/_bin/``; without it (a
package assembled by hand) the ``epochwatt`` found on PATH is used."""
import os
import shutil
import sys


def cli_path():
    """Path of the epochwatt executable this package runs; raises FileNotFoundError if none."""
    here = os.path.join(os.path.dirname(os.path.abspath(__file__)), "_bin", "epochwatt")
    if os.access(here, os.X_OK):
        return here
    found = shutil.which("epochwatt")
    if found:
        return found
    raise FileNotFoundError(f"the epochwatt executable is neither at {here} nor on PATH")


def main():
    try:
        exe = cli_path()
    except FileNotFoundError as e:
        print(f"epochwatt: {e}", file=sys.stderr)
        return 127
    sys.stdout.flush()
    sys.stderr.flush()
    # Replace this interpreter: the tracked job's signals, exit status and output are then exactly
    # those of the native command.
    os.execv(exe, ["epochwatt"] + sys.argv[1:])


if __name__ == "__main__":
    sys.exit(main())
