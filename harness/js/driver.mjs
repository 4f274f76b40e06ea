// The jco engine's driver: one long-lived Node process that transpiles components with jco and runs them for the
// harness (harness/src/engine/jco/mod.rs), speaking JSON lines on stdin/stdout.
//
// Why this shape:
// * One process serves many components, so Node's start-up and jco's own load are paid once per worker.
// * Transpiling is in memory (jco's `transpile` API); the generated ES module is imported from a `data:` URL and its
//   core modules are compiled from the returned bytes, so nothing is written to disk.
// * Host imports are not implemented here. Every import the component calls is forwarded to the harness as a
//   `host` line, and the driver blocks in `fs.readSync(0, ...)` on stdin until the answer comes (a synchronous
//   host function must return synchronously; stdin is a blocking pipe, which `readSync` can wait on). The Rust
//   side answers with the very same `Host` logic the other engines use, so all engines see the same host by
//   construction. While it waits, the harness may send requests (a host that reenters the component calls an
//   export): they are served in the wait loop.
// * Values are whatever jco's generated code takes and gives. The driver does not know the types: the harness
//   converts type-directed, and only JS values that JSON cannot carry are tagged, the same way in both
//   directions: BigInt `{"$b":"12"}`, the floats JSON lacks `{"$f":"nan"|"inf"|"-inf"|"-0"}` (and, from the driver,
//   every number that is not a safe integer, as its shortest text `{"$f":"1.5"}`), `undefined` is
//   `null`, typed arrays are arrays, a resource object the component gave out `{"$r":id}`, a host resource
//   object `{"$h":rep,"t":name}`.
//
// Requests (harness -> driver): {"op":"transpile"|"instantiate"|"call"|"drop-resource"|"drop-instance"|"reset",...}
// Replies (driver -> harness):  {"reply":{"ok":...}} | {"reply":{"err":{...}}}
// Host calls (driver -> harness, during a request): {"host":{"module":m,"name":n,"args":[...]}}
// Host answers (harness -> driver): {"answer":{"ok":v}} | {"answer":{"throw":msg}} | {"answer":{"payload":v}}

import fs from 'node:fs';
import { StringDecoder } from 'node:string_decoder';

const jcoPath = process.argv[process.argv.length - 1];
let transpile;
try {
  ({ transpile } = await import(jcoPath));
} catch (e) {
  send({ ready: { err: `cannot load jco from ${jcoPath}: ${e && e.message}` } });
  process.exit(0);
}
send({ ready: { ok: true } });

const dispose = Symbol.dispose ?? Symbol.for('dispose');
const components = [];
const instances = [];

// ---- line I/O -------------------------------------------------------------------------------------------------

let pending = '';
const chunk = Buffer.alloc(1 << 16);
// A read can end inside a character (a long line arrives in several reads): the decoder keeps the bytes of a
// character split across reads until its end arrives. (Decoding each read on its own turned one character into
// U+FFFDs, which looked like a jco bug in a string argument.)
const decoder = new StringDecoder('utf8');

function readLine() {
  for (;;) {
    const nl = pending.indexOf('\n');
    if (nl >= 0) {
      const line = pending.slice(0, nl);
      pending = pending.slice(nl + 1);
      return line;
    }
    let n;
    try {
      n = fs.readSync(0, chunk, 0, chunk.length, null);
    } catch (e) {
      if (e.code === 'EAGAIN') continue;
      if (e.code === 'EOF') return null;
      throw e;
    }
    if (n === 0) return null;
    pending += decoder.write(chunk.subarray(0, n));
  }
}

function send(msg) {
  const text = JSON.stringify(msg) + '\n';
  const buf = Buffer.from(text, 'utf8');
  let off = 0;
  while (off < buf.length) {
    try {
      off += fs.writeSync(1, buf, off, buf.length - off);
    } catch (e) {
      if (e.code !== 'EAGAIN') throw e;
    }
  }
}

// ---- values ---------------------------------------------------------------------------------------------------

// JS value -> JSON (see the header). `inst` numbers the resource objects an instance gives out.
function encode(v, inst) {
  if (v === undefined || v === null) return null;
  if (typeof v === 'bigint') return { $b: v.toString() };
  if (typeof v === 'number') {
    if (Number.isNaN(v)) return { $f: 'nan' };
    if (v === Infinity) return { $f: 'inf' };
    if (v === -Infinity) return { $f: '-inf' };
    if (Object.is(v, -0)) return { $f: '-0' };
    // Integers are exact in JSON; other numbers go as JavaScript's shortest round-trip text, which the harness
    // parses correctly rounded (serde_json's own float parsing may be one ulp off).
    if (Number.isSafeInteger(v)) return v;
    return { $f: String(v) };
  }
  if (typeof v === 'string' || typeof v === 'boolean') return v;
  if (ArrayBuffer.isView(v)) return Array.from(v, (x) => encode(x, inst));
  if (Array.isArray(v)) return v.map((x) => encode(x, inst));
  if (typeof v === 'object') {
    if (v[HOST_REP] !== undefined) return { $h: v[HOST_REP], t: v[HOST_TYPE] };
    const proto = Object.getPrototypeOf(v);
    if (proto !== Object.prototype && proto !== null) {
      if (!inst) return { $r: -1 };
      let id = inst.ids.get(v);
      if (id === undefined) {
        id = inst.objects.length;
        inst.objects.push(v);
        inst.ids.set(v, id);
      }
      return { $r: id };
    }
    const out = {};
    for (const [k, x] of Object.entries(v)) out[k] = encode(x, inst);
    return out;
  }
  return String(v);
}

// JSON -> JS value.
function decode(v, inst) {
  if (v === null) return undefined;
  if (Array.isArray(v)) return v.map((x) => decode(x, inst));
  if (typeof v !== 'object') return v;
  if (typeof v.$b === 'string') return BigInt(v.$b);
  if (typeof v.$f === 'string') return { nan: NaN, inf: Infinity, '-inf': -Infinity, '-0': -0 }[v.$f] ?? Number(v.$f);
  if (typeof v.$ta === 'string' && Array.isArray(v.v)) return new globalThis[v.$ta](v.v.map((x) => decode(x, inst)));
  if (typeof v.$r === 'number') {
    const o = inst && inst.objects[v.$r];
    if (o === undefined) throw new Error(`no resource object #${v.$r}`);
    return o;
  }
  if (typeof v.$h === 'number') return hostObject(inst, v.t, v.$h);
  const out = {};
  for (const [k, x] of Object.entries(v)) out[k] = decode(x, inst);
  return out;
}

// ---- host imports ---------------------------------------------------------------------------------------------

const HOST_REP = Symbol('host rep');
const HOST_TYPE = Symbol('host type');

// Forwards one host-import call to the harness and waits for the answer; requests that arrive meanwhile (a host
// that reenters the component) are served first.
function hostCall(inst, module, name, args) {
  send({ host: { module, name, args: args.map((a) => encode(a, inst)) } });
  for (;;) {
    const line = readLine();
    if (line === null) process.exit(0);
    const msg = JSON.parse(line);
    if (msg.answer) {
      const a = msg.answer;
      if ('throw' in a) throw new Error(a.throw);
      if ('payload' in a) {
        const e = new Error('host import returned err');
        e.payload = decode(a.payload, inst);
        throw e;
      }
      return decode(a.ok, inst);
    }
    serve(msg);
  }
}

// The object that stands for host resource `rep` of the host type named `type` (the same object for the same
// rep, while it lives).
function hostObject(inst, type, rep) {
  const key = `${type}\u0000${rep}`;
  let o = inst.hostObjects.get(key);
  if (!o) {
    o = Object.create(hostClass(inst, type).prototype);
    o[HOST_REP] = rep;
    o[HOST_TYPE] = type;
    inst.hostObjects.set(key, o);
  }
  return o;
}

// A class for an imported resource type: constructing, static and method calls are forwarded; dropping the last
// handle calls `[Symbol.dispose]`, which is forwarded as `[dtor]`.
function hostClass(inst, type, module) {
  let cls = inst.hostClasses.get(type);
  if (cls) return cls;
  const mod = module ?? '';
  cls = function (...args) {
    return hostCall(inst, mod, `[constructor]${type}`, args);
  };
  Object.defineProperty(cls, 'name', { value: type });
  cls.prototype[dispose] = function () {
    const rep = this[HOST_REP];
    if (rep !== undefined) inst.hostObjects.delete(`${type}\u0000${rep}`);
    hostCall(inst, mod, `[dtor]${type}`, [rep ?? -1]);
  };
  const proxied = new Proxy(cls, {
    get(target, prop, recv) {
      if (typeof prop !== 'string' || prop === 'prototype' || prop in Function.prototype) {
        return Reflect.get(target, prop, recv);
      }
      return (...args) => hostCall(inst, mod, `[static]${type}.${prop}`, args);
    },
  });
  cls.prototype = new Proxy(cls.prototype, {
    get(target, prop, recv) {
      if (typeof prop !== 'string' || prop in target || prop === 'constructor') return Reflect.get(target, prop, recv);
      return function (...args) {
        return hostCall(inst, mod, `[method]${type}.${prop}`, [this, ...args]);
      };
    },
  });
  inst.hostClasses.set(type, proxied);
  return proxied;
}

// The imports object: any module, any name, forwarded. Names that start with an upper-case letter are resource
// classes (jco's convention).
function importsFor(inst) {
  return new Proxy({}, {
    get(_, module) {
      if (typeof module !== 'string') return undefined;
      return new Proxy({}, {
        get(_, name) {
          if (typeof name !== 'string') return undefined;
          if (/^[A-Z]/.test(name)) return hostClass(inst, name, module);
          return (...args) => hostCall(inst, module, name, args);
        },
        has() { return true; },
      });
    },
    has() { return true; },
  });
}

// ---- requests -------------------------------------------------------------------------------------------------

function errorText(e) {
  if (e instanceof Error) return `${e.name}: ${e.message}`;
  return String(e);
}

// The generated ES module. In sync instantiation mode it only exports `instantiate`: evaluated as a function body
// (its other top-level exports become locals) it can be collected when its component is forgotten (an imported module stays in the module map for good).
async function load(source) {
  if (/^export function instantiate\(/m.test(source) && !/^\s*import\b/m.test(source)) {
    const body = source.replace(/^export (function|const|let|class) /gm, '$1 ') + '\nreturn instantiate;';
    if (!/^\s*export\b/m.test(body)) return { instantiate: new Function(body)() };
  }
  return import(`data:text/javascript;base64,${Buffer.from(source).toString('base64')}`);
}

async function transpileOne(req) {
  const bytes = Buffer.from(req.bytes, 'hex');
  let out;
  try {
    out = await transpile(new Uint8Array(bytes), {
      name: 'component',
      instantiation: { tag: 'sync' },
      noTypescript: true,
      quiet: true,
    });
  } catch (e) {
    // jco's transpiler is itself a component: a trap in it (a panic) leaves it poisoned for good.
    if (e instanceof WebAssembly.RuntimeError) {
      return { err: { class: 'crash', message: `jco's transpiler crashed: ${errorText(e)}` } };
    }
    return { err: { class: 'unsupported', message: `jco cannot transpile it: ${errorText(e)}` } };
  }
  const files = out.files;
  const js = files['component.js'];
  if (!js) return { err: { class: 'unsupported', message: 'jco produced no component.js' } };
  const modules = new Map();
  let mod;
  try {
    mod = await load(Buffer.from(js).toString('utf8'));
  } catch (e) {
    return { err: { class: 'unsupported', message: `jco's output does not load: ${errorText(e)}` } };
  }
  const getCoreModule = (name) => {
    let m = modules.get(name);
    if (!m) {
      const b = files[name];
      if (!b) throw new Error(`no core module ${name}`);
      m = new WebAssembly.Module(b);
      modules.set(name, m);
    }
    return m;
  };
  components.push({ mod, getCoreModule });
  return { ok: { id: components.length - 1, imports: out.imports, exports: out.exports } };
}

function instantiateOne(req) {
  const c = components[req.component];
  if (!c) return { err: { class: 'invalid', message: 'no such component' } };
  const inst = { exports: null, objects: [], ids: new Map(), hostObjects: new Map(), hostClasses: new Map() };
  try {
    inst.exports = c.mod.instantiate(c.getCoreModule, importsFor(inst));
  } catch (e) {
    return { err: { class: 'trap', message: errorText(e) } };
  }
  instances.push(inst);
  return { ok: instances.length - 1 };
}

const camel = (s) => s.replace(/-([a-zA-Z0-9])/g, (_, c) => c.toUpperCase()).replace(/^[A-Z]+/, (m) => m.toLowerCase());

function lookup(obj, name) {
  if (obj === undefined || obj === null) return undefined;
  if (name in obj) return obj[name];
  const short = name.replace(/^[^:]*:[^/]*\//, '').replace(/@.*$/, '');
  for (const n of [camel(name), short, camel(short)]) {
    if (n in obj) return obj[n];
  }
  return undefined;
}

// A resource's functions are a class's: `[constructor]r` is `new R(...)`, `[static]r.f` is `R.f(...)`, and
// `[method]r.f` is `self.f(...)` with the handle (the object) as the first argument.
function resourceFunction(parent, name) {
  const m = /^\[(constructor|method|static)\]([^.]+)(?:\.(.+))?$/.exec(name);
  if (!m) return undefined;
  const cls = lookup(parent, camel(m[2]).replace(/^./, (c) => c.toUpperCase()));
  if (typeof cls !== 'function') return undefined;
  if (m[1] === 'constructor') return (...args) => new cls(...args);
  const f = camel(m[3] ?? '');
  if (m[1] === 'static') return typeof cls[f] === 'function' ? (...args) => cls[f](...args) : undefined;
  return (self, ...args) => self[f](...args);
}

function callOne(req) {
  const inst = instances[req.instance];
  if (!inst) return { err: { class: 'trap', message: 'the instance was dropped' } };
  let target = inst.exports;
  for (const [i, name] of req.path.entries()) {
    const parent = target;
    target = lookup(parent, name);
    if (target === undefined && i === req.path.length - 1) target = resourceFunction(parent, name);
  }
  if (typeof target !== 'function') return { err: { class: 'link', message: `no export \`${req.path.join('#')}\`` } };
  let args;
  try {
    args = req.args.map((a) => decode(a, inst));
  } catch (e) {
    return { err: { class: 'trap', message: errorText(e) } };
  }
  try {
    const r = target(...args);
    return { ok: encode(r, inst) };
  } catch (e) {
    // jco throws the `err` of an export's whole `result` as a `ComponentError` (its `name` stays 'Error') with the
    // payload in `.payload`.
    if (e && typeof e === 'object' && e.constructor?.name === 'ComponentError' && Object.hasOwn(e, 'payload')) {
      return { payload: encode(e.payload, inst) };
    }
    return { err: { class: 'trap', message: errorText(e) } };
  }
}

function dropResource(req) {
  const inst = instances[req.instance];
  const o = inst && inst.objects[req.id];
  if (!o) return { err: { class: 'trap', message: `no resource object #${req.id}` } };
  try {
    o[dispose]();
  } catch (e) {
    return { err: { class: 'trap', message: errorText(e) } };
  }
  return { ok: null };
}

function serve(msg) {
  let reply;
  try {
    switch (msg.op) {
      case 'instantiate': reply = instantiateOne(msg); break;
      case 'call': reply = callOne(msg); break;
      case 'drop-resource': reply = dropResource(msg); break;
      case 'drop-instance': instances[msg.instance] = undefined; reply = { ok: null }; break;
      case 'reset': components.length = 0; instances.length = 0; reply = { ok: null }; break;
      default: reply = { err: { class: 'invalid', message: `unknown request ${msg.op}` } };
    }
  } catch (e) {
    reply = { err: { class: 'trap', message: errorText(e) } };
  }
  send({ reply });
}

for (;;) {
  const line = readLine();
  if (line === null) break;
  if (line.trim() === '') continue;
  const msg = JSON.parse(line);
  if (msg.op === 'transpile') {
    let reply;
    try {
      reply = await transpileOne(msg);
    } catch (e) {
      reply = { err: { class: 'unsupported', message: errorText(e) } };
    }
    send({ reply });
  } else {
    serve(msg);
  }
}
