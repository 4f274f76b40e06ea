// Prints its arguments and the environment variables it was given, then exits with 1 if it was given any argument.
import { getArguments, getEnvironment } from "wasi:cli/environment@0.2.12";
import { exit } from "wasi:cli/exit@0.2.12";
import { print } from "./io.js";

export const run = {
  run() {
    const args = getArguments();
    args.forEach((a, i) => print(`arg ${i}: ${a}`));
    const env = getEnvironment().slice().sort((x, y) => (x[0] < y[0] ? -1 : x[0] > y[0] ? 1 : 0));
    for (const [k, v] of env) print(`env ${k}=${v}`);
    exit(args.length > 1 ? { tag: "err", val: undefined } : { tag: "ok", val: undefined });
  },
};
