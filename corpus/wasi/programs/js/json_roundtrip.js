// Parses a JSON document from standard input, sums its numbers, sorts its keys and prints it back.
import { print, readAll, fromUtf8 } from "./io.js";

function sorted(v) {
  if (Array.isArray(v)) return v.map(sorted);
  if (v && typeof v === "object") {
    const out = {};
    for (const k of Object.keys(v).sort()) out[k] = sorted(v[k]);
    return out;
  }
  return v;
}

function total(v) {
  if (typeof v === "number") return v;
  if (Array.isArray(v)) return v.reduce((s, x) => s + total(x), 0);
  if (v && typeof v === "object") return Object.values(v).reduce((s, x) => s + total(x), 0);
  return 0;
}

export const run = {
  run() {
    const doc = JSON.parse(fromUtf8(readAll()));
    print(JSON.stringify(sorted(doc)));
    print(`sum: ${total(doc)}`);
  },
};
