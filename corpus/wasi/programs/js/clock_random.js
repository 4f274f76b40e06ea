// Reads the wall clock, the monotonic clock and the random sources. With a fixed clock and seed the host
// provides, the output is the same on every run and every engine.
import { now as wallNow } from "wasi:clocks/wall-clock@0.2.12";
import { now as monoNow } from "wasi:clocks/monotonic-clock@0.2.12";
import { getRandomBytes, getRandomU64 } from "wasi:random/random@0.2.12";
import { getInsecureRandomBytes } from "wasi:random/insecure@0.2.12";
import { print } from "./io.js";

const hex = (bytes) => Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");

export const run = {
  run() {
    const w = wallNow();
    print(`wall: ${w.seconds}.${String(w.nanoseconds).padStart(9, "0")}`);
    const a = monoNow();
    const b = monoNow();
    print(`monotonic is monotonic: ${b >= a}`);
    print(`random: ${hex(getRandomBytes(16))}`);
    print(`random u64: ${getRandomU64()}`);
    print(`insecure: ${hex(getInsecureRandomBytes(8))}`);
  },
};
