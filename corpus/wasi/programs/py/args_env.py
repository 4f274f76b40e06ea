"""Prints its arguments and the environment variables it was given, then exits with 1 if it was given any argument."""
import os
import sys

from wit_world import exports


class Run(exports.Run):
    def run(self) -> None:
        for i, arg in enumerate(sys.argv):
            print(f"arg {i}: {arg}")
        for key in sorted(os.environ):
            print(f"env {key}={os.environ[key]}")
        sys.stdout.flush()
        sys.exit(0 if len(sys.argv) == 1 else 1)
