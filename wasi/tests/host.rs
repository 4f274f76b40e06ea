//! The host's behaviour through its `bindgen!` traits, without a guest: preopen escapes refused, sizes bounded,
//! resources dropped in any order, deterministic clocks and random sources. Then through a hostile guest
//! (`guests/streams.wat`) on both backends: handles dropped twice, used after their drop, dropped as the wrong
//! type or before their children, and handed to another instance are results or traps, never host panics.

use std::time::Duration;

use component_layer::HostResource;
use component_layer_wasi::bindings::wasi::clocks::{monotonic_clock, wall_clock};
use component_layer_wasi::bindings::wasi::filesystem::preopens::Host as _;
use component_layer_wasi::bindings::wasi::filesystem::types::{
    self, DescriptorFlags, ErrorCode, HostDescriptor, OpenFlags, PathFlags,
};
use component_layer_wasi::bindings::wasi::io::poll::{self, HostPollable};
use component_layer_wasi::bindings::wasi::io::streams::{self, HostInputStream, HostOutputStream, StreamError};
use component_layer_wasi::bindings::wasi::random::{insecure, random};
use component_layer_wasi::{exit_code, CaptureBuffer, DirPerms, WasiCtx, MAX_READ};

fn scratch(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("component-layer-wasi-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(dir.join("pre/sub")).unwrap();
    std::fs::write(dir.join("pre/in.txt"), "inside").unwrap();
    std::fs::write(dir.join("secret.txt"), "outside").unwrap();
    dir
}

fn preopen(ctx: &mut WasiCtx) -> HostResource<types::Descriptor> {
    let (d, path) = ctx.get_directories().unwrap().remove(0);
    assert_eq!(path, "/data");
    HostResource::new_borrow(d.rep())
}

fn b(d: &HostResource<types::Descriptor>) -> HostResource<types::Descriptor> {
    HostResource::new_borrow(d.rep())
}

fn open(
    ctx: &mut WasiCtx,
    dir: &HostResource<types::Descriptor>,
    path: &str,
    o: OpenFlags,
    f: DescriptorFlags,
) -> Result<u32, ErrorCode> {
    ctx.open_at(b(dir), PathFlags::SYMLINK_FOLLOW, path.into(), o, f).unwrap().map(|d| d.rep())
}

#[test]
fn paths_cannot_leave_the_preopen() {
    let dir = scratch("escape");
    #[cfg(unix)]
    {
        std::os::unix::fs::symlink(dir.join("secret.txt"), dir.join("pre/abs-link")).unwrap();
        std::os::unix::fs::symlink("../secret.txt", dir.join("pre/rel-link")).unwrap();
        std::os::unix::fs::symlink("..", dir.join("pre/sub/up")).unwrap();
    }
    let mut ctx = WasiCtx::builder().preopened_dir(dir.join("pre"), "/data", DirPerms::ReadWrite).unwrap().build();
    let data = preopen(&mut ctx);
    let r = DescriptorFlags::READ;
    assert!(open(&mut ctx, &data, "in.txt", OpenFlags::empty(), r).is_ok());
    assert!(open(&mut ctx, &data, "sub/../in.txt", OpenFlags::empty(), r).is_ok());
    for path in [
        "../secret.txt",
        "sub/../../secret.txt",
        "/etc/passwd",
        "/data/in.txt",
        "abs-link",
        "rel-link",
        "sub/up/../secret.txt",
    ] {
        let e = open(&mut ctx, &data, path, OpenFlags::empty(), r);
        assert!(matches!(e, Err(ErrorCode::NotPermitted | ErrorCode::NoEntry)), "{path}: {e:?}");
    }
    // Creating outside is refused too, and nothing appears there.
    let w = DescriptorFlags::WRITE;
    assert!(open(&mut ctx, &data, "../escape.txt", OpenFlags::CREATE, w).is_err());
    assert!(!dir.join("escape.txt").exists());
    assert!(ctx.create_directory_at(b(&data), "../made".into()).unwrap().is_err());
    assert!(ctx.rename_at(b(&data), "in.txt".into(), b(&data), "../moved.txt".into()).unwrap().is_err());
    assert!(ctx.symlink_at(b(&data), "/etc/passwd".into(), "link".into()).unwrap().is_err());
    assert!(ctx.stat_at(b(&data), PathFlags::SYMLINK_FOLLOW, "../secret.txt".into()).unwrap().is_err());
    assert!(dir.join("pre/in.txt").exists() && !dir.join("moved.txt").exists() && !dir.join("made").exists());
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_read_only_preopen_refuses_changes() {
    let dir = scratch("readonly");
    let mut ctx = WasiCtx::builder().preopened_dir(dir.join("pre"), "/data", DirPerms::Read).unwrap().build();
    let data = preopen(&mut ctx);
    assert!(open(&mut ctx, &data, "in.txt", OpenFlags::empty(), DescriptorFlags::READ).is_ok());
    assert_eq!(
        open(&mut ctx, &data, "in.txt", OpenFlags::empty(), DescriptorFlags::WRITE),
        Err(ErrorCode::NotPermitted)
    );
    assert_eq!(
        open(&mut ctx, &data, "new.txt", OpenFlags::CREATE, DescriptorFlags::READ),
        Err(ErrorCode::NotPermitted)
    );
    assert_eq!(ctx.unlink_file_at(b(&data), "in.txt".into()).unwrap(), Err(ErrorCode::NotPermitted));
    assert!(dir.join("pre/in.txt").exists());
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn reads_and_writes_are_bounded() {
    let dir = scratch("bounded");
    let out = CaptureBuffer::with_limit(10);
    let mut ctx = WasiCtx::builder()
        .stdin_bytes(vec![7u8; (MAX_READ as usize) * 2])
        .stdout_capture(out.clone())
        .preopened_dir(dir.join("pre"), "/data", DirPerms::ReadWrite)
        .unwrap()
        .build();
    let data = preopen(&mut ctx);
    let f = open(&mut ctx, &data, "in.txt", OpenFlags::empty(), DescriptorFlags::READ).unwrap();
    let (bytes, end) = HostDescriptor::read(&mut ctx, HostResource::new_borrow(f), u64::MAX, 0).unwrap().unwrap();
    assert_eq!((bytes.as_slice(), end), (&b"inside"[..], false));
    let (bytes, end) = HostDescriptor::read(&mut ctx, HostResource::new_borrow(f), u64::MAX, 1 << 40).unwrap().unwrap();
    assert!(bytes.is_empty() && end);
    // An offset beyond what the OS accepts is an error code.
    let far = HostDescriptor::read(&mut ctx, HostResource::new_borrow(f), 1, u64::MAX).unwrap();
    assert_eq!(far, Err(ErrorCode::Invalid));

    use component_layer_wasi::bindings::wasi::cli::{stdin::Host as _, stdout::Host as _};
    let input = ctx.get_stdin().unwrap();
    let got = HostInputStream::read(&mut ctx, HostResource::new_borrow(input.rep()), u64::MAX).unwrap().unwrap();
    assert_eq!(got.len() as u64, MAX_READ);
    let output = ctx.get_stdout().unwrap();
    let o = || HostResource::<streams::OutputStream>::new_borrow(output.rep());
    // More than check-write grants, or more than 4096 bytes through blocking-write-and-flush, traps.
    assert!(ctx.blocking_write_and_flush(o(), vec![0; 4097]).is_err());
    assert!(ctx.write_zeroes(o(), u64::MAX).is_err());
    assert!(random::Host::get_random_bytes(&mut ctx, u64::MAX).is_err());
    // The capture keeps its limit and counts the rest.
    ctx.blocking_write_and_flush(o(), b"0123456789abcdef".to_vec()).unwrap().unwrap();
    assert_eq!(out.contents(), b"0123456789");
    assert_eq!(out.dropped(), 6);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn resources_drop_in_any_order() {
    let dir = scratch("drops");
    let mut ctx = WasiCtx::builder().preopened_dir(dir.join("pre"), "/data", DirPerms::ReadWrite).unwrap().build();
    let data = preopen(&mut ctx);
    let f =
        open(&mut ctx, &data, "in.txt", OpenFlags::empty(), DescriptorFlags::READ | DescriptorFlags::WRITE).unwrap();
    let stream = ctx.read_via_stream(HostResource::new_borrow(f), 0).unwrap().unwrap();
    let out = ctx.write_via_stream(HostResource::new_borrow(f), 0).unwrap().unwrap();
    let pollable = HostInputStream::subscribe(&mut ctx, HostResource::new_borrow(stream.rep())).unwrap();
    // The descriptor goes first, then the stream; the pollable and the output stream still work.
    HostDescriptor::drop(&mut ctx, HostResource::new_own(f)).unwrap();
    let got = HostInputStream::read(&mut ctx, HostResource::new_borrow(stream.rep()), 3).unwrap().unwrap();
    assert_eq!(got, b"ins");
    HostInputStream::drop(&mut ctx, stream).unwrap();
    assert!(ctx.ready(HostResource::new_borrow(pollable.rep())).unwrap());
    ctx.block(HostResource::new_borrow(pollable.rep())).unwrap();
    ctx.blocking_write_and_flush(HostResource::new_borrow(out.rep()), b"OUT".to_vec()).unwrap().unwrap();
    HostOutputStream::drop(&mut ctx, out).unwrap();
    HostPollable::drop(&mut ctx, pollable).unwrap();
    assert_eq!(std::fs::read_to_string(dir.join("pre/in.txt")).unwrap(), "OUTide");
    // A stale or foreign rep is an error (a trap for the guest), never a panic.
    assert!(HostInputStream::read(&mut ctx, HostResource::new_borrow(9999), 1).is_err());
    assert!(HostPollable::drop(&mut ctx, HostResource::new_own(9999)).is_err());
    assert!(ctx.stat(HostResource::new_borrow(0)).is_err());
    // Streams of a closed stdin report closed.
    let mut empty = WasiCtx::builder().build();
    use component_layer_wasi::bindings::wasi::cli::stdin::Host as _;
    let s = empty.get_stdin().unwrap();
    assert!(matches!(
        HostInputStream::read(&mut empty, HostResource::new_borrow(s.rep()), 10).unwrap(),
        Err(StreamError::Closed)
    ));
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn clocks_and_random_are_deterministic() {
    let run = || {
        let mut ctx = WasiCtx::builder().deterministic(Duration::new(1_700_000_000, 5), 42).build();
        let wall = wall_clock::Host::now(&mut ctx).unwrap();
        let t0 = monotonic_clock::Host::now(&mut ctx).unwrap();
        let p = monotonic_clock::Host::subscribe_duration(&mut ctx, 1_000_000_000).unwrap();
        assert!(!ctx.ready(HostResource::new_borrow(p.rep())).unwrap());
        // Blocking on a virtual clock moves it to the deadline at once.
        let ready = poll::Host::poll(&mut ctx, vec![HostResource::new_borrow(p.rep())]).unwrap();
        assert_eq!(ready, [0]);
        let t1 = monotonic_clock::Host::now(&mut ctx).unwrap();
        assert_eq!(t1 - t0, 1_000_000_000);
        let bytes = random::Host::get_random_bytes(&mut ctx, 16).unwrap();
        let word = random::Host::get_random_u64(&mut ctx).unwrap();
        let insecure = insecure::Host::get_insecure_random_bytes(&mut ctx, 8).unwrap();
        ((wall.seconds, wall.nanoseconds), bytes, word, insecure)
    };
    let a = run();
    assert_eq!(a, run());
    assert_eq!(a.0, (1_700_000_000, 5));
    assert_ne!(a.1, vec![0; 16]);
    // Another seed, other bytes.
    let mut other = WasiCtx::builder().deterministic(Duration::ZERO, 43).build();
    assert_ne!(random::Host::get_random_bytes(&mut other, 16).unwrap(), a.1);
}

#[test]
fn exit_is_not_a_trap() {
    use component_layer_wasi::bindings::wasi::cli::exit::Host as _;
    let mut ctx = WasiCtx::builder().build();
    let e = ctx.exit(Err(())).unwrap_err();
    assert_eq!(exit_code(&e), Some(1));
    let e = ctx.exit_with_code(42).unwrap_err();
    assert_eq!(exit_code(&e), Some(42));
    assert_eq!(exit_code(&component_layer::Error::trap(component_layer::Trap::OutOfBounds)), None);
}

/// `guests/streams.wat` instantiated `n` times in one fresh store, with stdout captured.
fn streams_guest<E: wasm_runtime_layer::backend::WasmEngine>(
    backend: E,
    n: usize,
) -> (component_layer::Store<WasiCtx, E>, Vec<component_layer::Instance>, CaptureBuffer) {
    use component_layer::{Component, Engine, Linker, Store};
    let engine = Engine::new(backend);
    let bytes = wat::parse_file(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/guests/streams.wat")).unwrap();
    let component = Component::new(&engine, &bytes).unwrap();
    let mut linker = Linker::<WasiCtx, E>::new();
    component_layer_wasi::add_to_linker(&mut linker).unwrap();
    let stdout = CaptureBuffer::with_limit(1 << 10);
    let mut store = Store::new(&engine, WasiCtx::builder().stdout_capture(stdout.clone()).build());
    let instances = (0..n).map(|_| linker.instantiate(&mut store, &component).unwrap()).collect();
    (store, instances, stdout)
}

/// One scenario of `guests/streams.wat` in a fresh store and instance: its result, and what reached stdout.
fn guest_call<E: wasm_runtime_layer::backend::WasmEngine>(
    backend: E,
    export: &str,
) -> (component_layer::Result<u32>, Vec<u8>) {
    use component_layer::Value;
    let (mut store, instances, stdout) = streams_guest(backend, 1);
    let func = instances[0].get_func(export).unwrap();
    let mut results = vec![Value::U32(0); usize::from(func.ty().result().is_some())];
    let outcome = func.call(&mut store, &[], &mut results).map(|()| match results.first() {
        Some(Value::U32(r)) => *r,
        _ => 0,
    });
    (outcome, stdout.contents())
}

/// A raw handle index given away by one instance, used by another in the same store.
fn cross_instance<E: wasm_runtime_layer::backend::WasmEngine>(backend: E) -> (component_layer::Result<()>, Vec<u8>) {
    let (mut store, instances, stdout) = streams_guest(backend, 2);
    let (a, b) = (&instances[0], &instances[1]);
    let (h,) = a.get_func("leak").unwrap().typed::<(), (u32,)>().unwrap().call(&mut store, ()).unwrap();
    // The index is A's: valid there, and unknown in B's table (which has no handles).
    let in_a = a.get_func("write-with").unwrap().typed::<(u32,), (u32,)>().unwrap().call(&mut store, (h,)).unwrap();
    assert_eq!(in_a, (0,));
    let in_b = b.get_func("write-with").unwrap().typed::<(u32,), (u32,)>().unwrap().call(&mut store, (h,));
    (in_b.map(|_| ()), stdout.contents())
}

fn hostile_guest<E: wasm_runtime_layer::backend::WasmEngine>(backend: impl Fn() -> E) {
    let (ok, out) = guest_call(backend(), "write-ok");
    assert_eq!(ok.unwrap(), 0);
    assert_eq!(out, b"ok\n");
    // WASI lets a host trap when a stream goes before its pollables; this one allows it. Either way, no panic.
    assert!(guest_call(backend(), "parent-first").0.is_ok());
    for export in ["double-drop", "write-after-drop", "drop-as-pollable"] {
        let (outcome, out) = guest_call(backend(), export);
        let err = outcome.expect_err(export);
        assert!(matches!(err.kind(), component_layer::ErrorKind::Trap(_)), "{export}: {err}");
        assert!(out.is_empty(), "{export}");
    }
    let (in_b, out) = cross_instance(backend());
    let err = in_b.expect_err("a handle of another instance");
    assert!(matches!(err.kind(), component_layer::ErrorKind::Trap(_)), "{err}");
    assert_eq!(out, b"ok\n", "only A's write got through");
}

#[test]
fn a_hostile_guest_gets_traps_on_wasmi() {
    hostile_guest(wasmi_runtime_layer::Engine::default);
}

#[test]
fn a_hostile_guest_gets_traps_on_wasmtime() {
    hostile_guest(wasmtime_runtime_layer::Engine::default);
}
