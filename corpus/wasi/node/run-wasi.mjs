// Runs a transpiled wasi:cli/run component in Node with preview2-shim: node run-wasi.mjs <dir-of-transpile>
// <name> [--dir HOST::GUEST]... [--env K=V]... [-- ARGS...]
import { _setArgs, _setEnv } from "@bytecodealliance/preview2-shim/cli";
import { _setPreopens } from "@bytecodealliance/preview2-shim/filesystem";
import { pathToFileURL } from "node:url";
import { resolve } from "node:path";

const [dir, name, ...rest] = process.argv.slice(2);
const preopens = {};
const env = {};
let args = [name];
for (let i = 0; i < rest.length; i++) {
  if (rest[i] === "--dir") {
    const [host, guest] = rest[++i].split("::");
    preopens[guest] = resolve(host);
  } else if (rest[i] === "--env") {
    const [k, ...v] = rest[++i].split("=");
    env[k] = v.join("=");
  } else if (rest[i] === "--") {
    args = args.concat(rest.slice(i + 1));
    break;
  }
}
_setArgs(args);
_setEnv(env);
_setPreopens(preopens);
const mod = await import(pathToFileURL(resolve(dir, `${name}.js`)).href);
mod.run.run();
