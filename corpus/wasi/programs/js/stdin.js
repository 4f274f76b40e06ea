// Reads standard input to its end; prints its line and byte counts, and the lines reversed, upper-cased.
import { print, eprint, readAll, fromUtf8 } from "./io.js";

export const run = {
  run() {
    const data = readAll();
    const text = fromUtf8(data);
    const lines = text.split("\n");
    if (lines.length && lines[lines.length - 1] === "") lines.pop();
    print(`${lines.length} lines, ${data.length} bytes`);
    for (const line of lines.reverse()) print(line.toUpperCase());
    eprint("to stderr");
  },
};
