"""Reads standard input to its end; prints its line and byte counts, and the lines reversed, upper-cased."""
import sys

from wit_world import exports


class Run(exports.Run):
    def run(self) -> None:
        data = sys.stdin.buffer.read()
        lines = data.decode("utf-8", errors="replace").splitlines()
        print(f"{len(lines)} lines, {len(data)} bytes")
        for line in reversed(lines):
            print(line.upper())
        print("to stderr", file=sys.stderr)
