// Prints a greeting: the smallest wasi:cli/run program.
import { print } from "./io.js";

export const run = {
  run() {
    print("hello from componentize-qjs");
  },
};
