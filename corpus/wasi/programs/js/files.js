// File I/O in the preopened directory `/data`: reads in.txt, writes sub/out.txt, makes a directory, renames and
// removes a file, lists the tree, and shows that `..` cannot leave the preopen.
import { getDirectories } from "wasi:filesystem/preopens@0.2.12";
import { print, utf8, fromUtf8 } from "./io.js";

function preopen(name) {
  for (const [d, path] of getDirectories()) if (path === name) return d;
  throw new Error(`no preopen ${name}`);
}

function readFile(dir, path) {
  const f = dir.openAt({}, path, {}, { read: true });
  const size = Number(f.stat().size);
  const [bytes] = f.read(size, 0);
  return bytes;
}

function writeFile(dir, path, text) {
  const f = dir.openAt({}, path, { create: true, truncate: true }, { write: true });
  f.write(utf8(text), 0);
}

function names(dir) {
  const out = [];
  const stream = dir.readDirectory();
  for (let e = stream.readDirectoryEntry(); e; e = stream.readDirectoryEntry()) out.push(`${e.name}${e.type === "directory" ? "/" : ""}`);
  return out.sort();
}

export const run = {
  run() {
    const data = preopen("/data");
    const text = fromUtf8(readFile(data, "in.txt"));
    print(`in.txt: ${text.length} chars`);
    try {
      data.createDirectoryAt("sub");
    } catch (e) {
      if (!(e && (e.payload === "exist" || e === "exist"))) throw e;
    }
    writeFile(data, "sub/out.txt", Array.from(text).reverse().join(""));
    writeFile(data, "tmp.txt", "temporary");
    data.renameAt("tmp.txt", data, "sub/renamed.txt");
    writeFile(data, "gone.txt", "x");
    data.unlinkFileAt("gone.txt");
    print(`/data: ${names(data).join(" ")}`);
    for (const path of ["in.txt", "sub/out.txt", "sub/renamed.txt"]) print(`/data/${path} ${data.statAt({}, path).size}`);
    try {
      writeFile(data, "../escape.txt", "escaped");
      print("escape: allowed");
    } catch (e) {
      print(`escape: refused (${e && e.payload !== undefined ? e.payload : e})`);
    }
  },
};
