"""Reads the wall clock, the monotonic clock and the random sources. With a fixed clock and seed the host
provides, the output is the same on every run and every engine."""
import os
import random
import time

from wit_world import exports


class Run(exports.Run):
    def run(self) -> None:
        print(f"wall: {time.time_ns()}")
        a = time.monotonic_ns()
        b = time.monotonic_ns()
        print(f"monotonic is monotonic: {b >= a}")
        print(f"urandom: {os.urandom(16).hex()}")
        print(f"random: {random.Random(7).randint(0, 1 << 30)}")
