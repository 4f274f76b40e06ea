//! `wasi:filesystem`: descriptors over real directories through `cap-std`.
//!
//! Every path a guest names is resolved by `cap_std::fs::Dir` relative to a directory the guest was given (a
//! preopen, or one opened below it), so `..`, absolute paths and symlinks (followed or not) cannot leave the
//! preopen: cap-std refuses them with `PermissionDenied`, which the guest sees as `not-permitted`, as in
//! wasmtime-wasi. A preopen opened [`DirPerms::Read`] refuses every change below it (`not-permitted`) before the
//! operating system is asked.
//!
//! Not implemented: the `symlink-follow` path flag is always treated as set when opening a file (cap-std follows
//! symlinks inside the sandbox; `stat-at` does honour it), and `advise` is accepted and ignored.

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::SystemTime;

use cap_std::fs::{Dir, File, Metadata, OpenOptions};
use component_layer::{HostResource, Result};

use crate::bindings::wasi::filesystem::{preopens, types};
use crate::ctx::DirPerms;
use crate::io::{FilePos, InputStream, OutputStream, MAX_READ};
use crate::table::Entry;
use crate::WasiCtx;

use types::{
    Advice, DescriptorFlags, DescriptorStat, DescriptorType, DirectoryEntry, ErrorCode, Filesize, MetadataHashValue,
    NewTimestamp, OpenFlags, PathFlags,
};

/// An open file, shared by its descriptor and the streams made from it.
pub(crate) type FileHandle = Arc<File>;

/// An open descriptor.
pub(crate) enum Descriptor {
    Dir { dir: Arc<Dir>, perms: DirPerms },
    File { file: FileHandle, read: bool, write: bool },
}

/// The rest of a directory listing.
pub(crate) struct DirEntries(VecDeque<std::result::Result<DirectoryEntry, ErrorCode>>);

type FsResult<T> = Result<std::result::Result<T, ErrorCode>>;

/// The WASI error code for an I/O error.
pub(crate) fn error_code(err: &std::io::Error) -> ErrorCode {
    #[cfg(target_os = "linux")]
    if let Some(code) = err.raw_os_error().and_then(errno_code) {
        return code;
    }
    use std::io::ErrorKind as K;
    match err.kind() {
        K::NotFound => ErrorCode::NoEntry,
        K::PermissionDenied => ErrorCode::NotPermitted,
        K::AlreadyExists => ErrorCode::Exist,
        K::InvalidInput | K::InvalidData => ErrorCode::Invalid,
        K::NotADirectory => ErrorCode::NotDirectory,
        K::IsADirectory => ErrorCode::IsDirectory,
        K::DirectoryNotEmpty => ErrorCode::NotEmpty,
        K::ReadOnlyFilesystem => ErrorCode::ReadOnly,
        K::FileTooLarge => ErrorCode::FileTooLarge,
        K::ResourceBusy => ErrorCode::Busy,
        K::CrossesDevices => ErrorCode::CrossDevice,
        K::TooManyLinks => ErrorCode::TooManyLinks,
        K::InvalidFilename => ErrorCode::NameTooLong,
        K::Interrupted => ErrorCode::Interrupted,
        K::Unsupported => ErrorCode::Unsupported,
        K::StorageFull => ErrorCode::InsufficientSpace,
        K::NotSeekable => ErrorCode::InvalidSeek,
        K::WouldBlock => ErrorCode::WouldBlock,
        K::OutOfMemory => ErrorCode::InsufficientMemory,
        K::BrokenPipe => ErrorCode::Pipe,
        _ => ErrorCode::Io,
    }
}

/// Linux errno values that `std::io::ErrorKind` merges or does not name.
#[cfg(target_os = "linux")]
fn errno_code(errno: i32) -> Option<ErrorCode> {
    Some(match errno {
        1 => ErrorCode::NotPermitted,
        13 => ErrorCode::Access,
        40 => ErrorCode::Loop,
        36 => ErrorCode::NameTooLong,
        95 | 38 => ErrorCode::Unsupported,
        9 => ErrorCode::BadDescriptor,
        75 => ErrorCode::Overflow,
        84 => ErrorCode::IllegalByteSequence,
        26 => ErrorCode::TextFileBusy,
        122 => ErrorCode::Quota,
        _ => return None,
    })
}

fn io<T>(r: std::io::Result<T>) -> std::result::Result<T, ErrorCode> {
    r.map_err(|e| error_code(&e))
}

/// Reads at `offset` without moving a shared cursor.
pub(crate) fn read_at(file: &File, buf: &mut [u8], offset: u64) -> std::io::Result<usize> {
    #[cfg(unix)]
    {
        cap_std::fs::FileExt::read_at(file, buf, offset)
    }
    #[cfg(windows)]
    {
        cap_std::fs::FileExt::seek_read(file, buf, offset)
    }
    #[cfg(not(any(unix, windows)))]
    {
        let _ = (file, buf, offset);
        Err(std::io::ErrorKind::Unsupported.into())
    }
}

/// Writes all of `buf` at `offset`.
pub(crate) fn write_all_at(file: &File, mut buf: &[u8], mut offset: u64) -> std::io::Result<()> {
    while !buf.is_empty() {
        #[cfg(unix)]
        let n = cap_std::fs::FileExt::write_at(file, buf, offset)?;
        #[cfg(windows)]
        let n = cap_std::fs::FileExt::seek_write(file, buf, offset)?;
        #[cfg(not(any(unix, windows)))]
        let n: usize = return Err(std::io::ErrorKind::Unsupported.into());
        if n == 0 {
            return Err(std::io::ErrorKind::WriteZero.into());
        }
        buf = &buf[n..];
        offset = offset.saturating_add(n as u64);
    }
    Ok(())
}

fn descriptor_type(ft: cap_std::fs::FileType) -> DescriptorType {
    if ft.is_dir() {
        DescriptorType::Directory
    } else if ft.is_file() {
        DescriptorType::RegularFile
    } else if ft.is_symlink() {
        DescriptorType::SymbolicLink
    } else {
        DescriptorType::Unknown
    }
}

fn datetime(t: std::io::Result<cap_std::time::SystemTime>) -> Option<types::Datetime> {
    let d = t.ok()?.into_std().duration_since(SystemTime::UNIX_EPOCH).ok()?;
    Some(types::Datetime { seconds: d.as_secs(), nanoseconds: d.subsec_nanos() })
}

fn stat_of(m: &Metadata) -> DescriptorStat {
    #[cfg(unix)]
    let (link_count, ctime) = {
        use cap_std::fs::MetadataExt;
        let ctime = u64::try_from(m.ctime())
            .ok()
            .map(|s| types::Datetime { seconds: s, nanoseconds: m.ctime_nsec().clamp(0, 999_999_999) as u32 });
        (m.nlink(), ctime)
    };
    #[cfg(not(unix))]
    let (link_count, ctime) = (1, None);
    DescriptorStat {
        r#type: descriptor_type(m.file_type()),
        link_count,
        size: m.len(),
        data_access_timestamp: datetime(m.accessed()),
        data_modification_timestamp: datetime(m.modified()),
        status_change_timestamp: ctime,
    }
}

fn hash_of(m: &Metadata) -> MetadataHashValue {
    #[cfg(unix)]
    {
        use cap_std::fs::MetadataExt;
        MetadataHashValue { lower: m.ino(), upper: m.dev() }
    }
    #[cfg(not(unix))]
    {
        use std::hash::{Hash, Hasher};
        let mut h = std::collections::hash_map::DefaultHasher::new();
        m.len().hash(&mut h);
        datetime(m.created()).map(|d| (d.seconds, d.nanoseconds)).hash(&mut h);
        MetadataHashValue { lower: h.finish(), upper: 0 }
    }
}

/// A guest path must be relative: an absolute path is refused here already (cap-std would refuse it too).
fn relative(path: &str) -> std::result::Result<&str, ErrorCode> {
    if path.starts_with('/') || path.starts_with('\\') || path.contains('\0') {
        Err(ErrorCode::NotPermitted)
    } else {
        Ok(path)
    }
}

fn file_times(atime: &NewTimestamp, mtime: &NewTimestamp) -> std::fs::FileTimes {
    let when = |t: &NewTimestamp| match t {
        NewTimestamp::NoChange => None,
        NewTimestamp::Now => Some(SystemTime::now()),
        NewTimestamp::Timestamp(d) => {
            SystemTime::UNIX_EPOCH.checked_add(std::time::Duration::new(d.seconds, d.nanoseconds.min(999_999_999)))
        }
    };
    let mut times = std::fs::FileTimes::new();
    if let Some(a) = when(atime) {
        times = times.set_accessed(a);
    }
    if let Some(m) = when(mtime) {
        times = times.set_modified(m);
    }
    times
}

impl WasiCtx {
    fn desc(&mut self, d: &HostResource<types::Descriptor>) -> Result<&mut Descriptor> {
        self.table.descriptor(d.rep())
    }

    /// The directory of a descriptor, if it is one, and whether it may be changed.
    fn dir(&mut self, d: &HostResource<types::Descriptor>) -> Result<std::result::Result<(Arc<Dir>, bool), ErrorCode>> {
        Ok(match self.desc(d)? {
            Descriptor::Dir { dir, perms } => Ok((Arc::clone(dir), perms.writable())),
            Descriptor::File { .. } => Err(ErrorCode::NotDirectory),
        })
    }

    /// The directory of a descriptor that the guest wants to change.
    fn dir_mut(&mut self, d: &HostResource<types::Descriptor>) -> Result<std::result::Result<Arc<Dir>, ErrorCode>> {
        Ok(match self.dir(d)? {
            Ok((dir, true)) => Ok(dir),
            Ok((_, false)) => Err(ErrorCode::NotPermitted),
            Err(e) => Err(e),
        })
    }

    fn file(
        &mut self,
        d: &HostResource<types::Descriptor>,
    ) -> Result<std::result::Result<(FileHandle, bool, bool), ErrorCode>> {
        Ok(match self.desc(d)? {
            Descriptor::File { file, read, write } => Ok((Arc::clone(file), *read, *write)),
            Descriptor::Dir { .. } => Err(ErrorCode::IsDirectory),
        })
    }

    /// The metadata of `path` under directory `d`, following a final symlink only if `path_flags` say so.
    fn metadata_at(
        &mut self,
        d: &HostResource<types::Descriptor>,
        path_flags: PathFlags,
        path: &str,
    ) -> Result<std::result::Result<Metadata, ErrorCode>> {
        Ok(self.dir(d)?.and_then(|(dir, _)| {
            let path = relative(path)?;
            if path_flags.contains(PathFlags::SYMLINK_FOLLOW) {
                io(dir.metadata(path))
            } else {
                io(dir.symlink_metadata(path))
            }
        }))
    }

    fn metadata(&mut self, d: &HostResource<types::Descriptor>) -> Result<std::result::Result<Metadata, ErrorCode>> {
        Ok(match self.desc(d)? {
            Descriptor::Dir { dir, .. } => io(dir.dir_metadata()),
            Descriptor::File { file, .. } => io(file.metadata()),
        })
    }

    fn open(
        &mut self,
        d: &HostResource<types::Descriptor>,
        path: &str,
        oflags: OpenFlags,
        flags: DescriptorFlags,
    ) -> Result<std::result::Result<Descriptor, ErrorCode>> {
        let (dir, writable) = match self.dir(d)? {
            Ok(x) => x,
            Err(e) => return Ok(Err(e)),
        };
        let perms = if writable { DirPerms::ReadWrite } else { DirPerms::Read };
        let wants_change = flags.contains(DescriptorFlags::WRITE)
            || flags.contains(DescriptorFlags::MUTATE_DIRECTORY)
            || oflags.intersects(OpenFlags::CREATE | OpenFlags::TRUNCATE);
        if wants_change && !writable {
            return Ok(Err(ErrorCode::NotPermitted));
        }
        let path = match relative(path) {
            Ok(p) => p,
            Err(e) => return Ok(Err(e)),
        };
        if oflags.contains(OpenFlags::DIRECTORY) {
            if flags.contains(DescriptorFlags::WRITE) {
                return Ok(Err(ErrorCode::IsDirectory));
            }
            if oflags.intersects(OpenFlags::CREATE | OpenFlags::EXCLUSIVE | OpenFlags::TRUNCATE) {
                return Ok(Err(ErrorCode::Invalid));
            }
            return Ok(io(dir.open_dir(path)).map(|dir| Descriptor::Dir { dir: Arc::new(dir), perms }));
        }
        let write = flags.contains(DescriptorFlags::WRITE);
        let read = flags.contains(DescriptorFlags::READ) || !write;
        let mut opts = OpenOptions::new();
        opts.read(read).write(write);
        if oflags.contains(OpenFlags::CREATE) {
            if oflags.contains(OpenFlags::EXCLUSIVE) {
                opts.create_new(true);
            } else {
                opts.create(true);
            }
            opts.write(true);
        }
        if oflags.contains(OpenFlags::TRUNCATE) {
            opts.truncate(true).write(true);
        }
        let file = match io(dir.open_with(path, &opts)) {
            Ok(f) => f,
            Err(e) => return Ok(Err(e)),
        };
        // A directory opened without `directory` (as `open(dir, O_RDONLY)` does) is still a directory.
        if file.metadata().is_ok_and(|m| m.is_dir()) {
            return Ok(Ok(Descriptor::Dir { dir: Arc::new(Dir::from_std_file(file.into_std())), perms }));
        }
        Ok(Ok(Descriptor::File { file: Arc::new(file), read, write: write && writable }))
    }
}

impl types::HostDescriptor for WasiCtx {
    fn read_via_stream(
        &mut self,
        self_: HostResource<types::Descriptor>,
        offset: Filesize,
    ) -> FsResult<HostResource<types::InputStream>> {
        match self.file(&self_)? {
            Ok((file, true, _)) => Ok(Ok(self.table.push_own(Entry::Input(InputStream::File { file, offset }))?)),
            Ok(_) => Ok(Err(ErrorCode::BadDescriptor)),
            Err(e) => Ok(Err(e)),
        }
    }

    fn write_via_stream(
        &mut self,
        self_: HostResource<types::Descriptor>,
        offset: Filesize,
    ) -> FsResult<HostResource<types::OutputStream>> {
        match self.file(&self_)? {
            Ok((file, _, true)) => {
                Ok(Ok(self.table.push_own(Entry::Output(OutputStream::File { file, pos: FilePos::At(offset) }))?))
            }
            Ok(_) => Ok(Err(ErrorCode::BadDescriptor)),
            Err(e) => Ok(Err(e)),
        }
    }

    fn append_via_stream(
        &mut self,
        self_: HostResource<types::Descriptor>,
    ) -> FsResult<HostResource<types::OutputStream>> {
        match self.file(&self_)? {
            Ok((file, _, true)) => {
                Ok(Ok(self.table.push_own(Entry::Output(OutputStream::File { file, pos: FilePos::Append }))?))
            }
            Ok(_) => Ok(Err(ErrorCode::BadDescriptor)),
            Err(e) => Ok(Err(e)),
        }
    }

    fn advise(&mut self, self_: HostResource<types::Descriptor>, _: Filesize, _: Filesize, _: Advice) -> FsResult<()> {
        self.desc(&self_)?;
        Ok(Ok(()))
    }

    fn sync_data(&mut self, self_: HostResource<types::Descriptor>) -> FsResult<()> {
        Ok(match self.desc(&self_)? {
            Descriptor::File { file, .. } => io(file.sync_data()),
            Descriptor::Dir { .. } => Ok(()),
        })
    }

    fn get_flags(&mut self, self_: HostResource<types::Descriptor>) -> FsResult<DescriptorFlags> {
        Ok(Ok(match self.desc(&self_)? {
            Descriptor::Dir { perms, .. } if perms.writable() => {
                DescriptorFlags::READ | DescriptorFlags::MUTATE_DIRECTORY
            }
            Descriptor::Dir { .. } => DescriptorFlags::READ,
            Descriptor::File { read, write, .. } => {
                let mut f = DescriptorFlags::empty();
                if *read {
                    f |= DescriptorFlags::READ;
                }
                if *write {
                    f |= DescriptorFlags::WRITE;
                }
                f
            }
        }))
    }

    fn get_type(&mut self, self_: HostResource<types::Descriptor>) -> FsResult<DescriptorType> {
        Ok(self.metadata(&self_)?.map(|m| descriptor_type(m.file_type())))
    }

    fn set_size(&mut self, self_: HostResource<types::Descriptor>, size: Filesize) -> FsResult<()> {
        Ok(match self.file(&self_)? {
            Ok((file, _, true)) => io(file.set_len(size)),
            Ok(_) => Err(ErrorCode::BadDescriptor),
            Err(e) => Err(e),
        })
    }

    fn set_times(
        &mut self,
        self_: HostResource<types::Descriptor>,
        atime: NewTimestamp,
        mtime: NewTimestamp,
    ) -> FsResult<()> {
        let times = file_times(&atime, &mtime);
        Ok(match self.desc(&self_)? {
            Descriptor::File { file, .. } => io(file.try_clone().and_then(|f| f.into_std().set_times(times))),
            Descriptor::Dir { dir, perms } => {
                if !perms.writable() {
                    return Ok(Err(ErrorCode::NotPermitted));
                }
                io(dir.try_clone().and_then(|d| d.into_std_file().set_times(times)))
            }
        })
    }

    fn read(
        &mut self,
        self_: HostResource<types::Descriptor>,
        length: Filesize,
        offset: Filesize,
    ) -> FsResult<(Vec<u8>, bool)> {
        let file = match self.file(&self_)? {
            Ok((file, true, _)) => file,
            Ok(_) => return Ok(Err(ErrorCode::BadDescriptor)),
            Err(e) => return Ok(Err(e)),
        };
        let mut buf = vec![0; length.min(MAX_READ) as usize];
        Ok(io(read_at(&file, &mut buf, offset)).map(|n| {
            buf.truncate(n);
            let end = n == 0 && length > 0;
            (buf, end)
        }))
    }

    fn write(
        &mut self,
        self_: HostResource<types::Descriptor>,
        buffer: Vec<u8>,
        offset: Filesize,
    ) -> FsResult<Filesize> {
        Ok(match self.file(&self_)? {
            Ok((file, _, true)) => io(write_all_at(&file, &buffer, offset)).map(|()| buffer.len() as u64),
            Ok(_) => Err(ErrorCode::BadDescriptor),
            Err(e) => Err(e),
        })
    }

    fn read_directory(
        &mut self,
        self_: HostResource<types::Descriptor>,
    ) -> FsResult<HostResource<types::DirectoryEntryStream>> {
        let dir = match self.dir(&self_)? {
            Ok((dir, _)) => dir,
            Err(e) => return Ok(Err(e)),
        };
        let entries = match io(dir.entries()) {
            Ok(e) => e,
            Err(e) => return Ok(Err(e)),
        };
        let list = entries
            .map(|e| {
                let e = io(e)?;
                let name = e.file_name().into_string().map_err(|_| ErrorCode::IllegalByteSequence)?;
                let r#type = e.file_type().map(descriptor_type).unwrap_or(DescriptorType::Unknown);
                Ok(DirectoryEntry { r#type, name })
            })
            .collect();
        Ok(Ok(self.table.push_own(Entry::DirEntries(DirEntries(list)))?))
    }

    fn sync(&mut self, self_: HostResource<types::Descriptor>) -> FsResult<()> {
        Ok(match self.desc(&self_)? {
            Descriptor::File { file, .. } => io(file.sync_all()),
            Descriptor::Dir { .. } => Ok(()),
        })
    }

    fn create_directory_at(&mut self, self_: HostResource<types::Descriptor>, path: String) -> FsResult<()> {
        Ok(self.dir_mut(&self_)?.and_then(|dir| io(dir.create_dir(relative(&path)?))))
    }

    fn stat(&mut self, self_: HostResource<types::Descriptor>) -> FsResult<DescriptorStat> {
        Ok(self.metadata(&self_)?.map(|m| stat_of(&m)))
    }

    fn stat_at(
        &mut self,
        self_: HostResource<types::Descriptor>,
        path_flags: PathFlags,
        path: String,
    ) -> FsResult<DescriptorStat> {
        Ok(self.metadata_at(&self_, path_flags, &path)?.map(|m| stat_of(&m)))
    }

    fn set_times_at(
        &mut self,
        self_: HostResource<types::Descriptor>,
        _: PathFlags,
        path: String,
        atime: NewTimestamp,
        mtime: NewTimestamp,
    ) -> FsResult<()> {
        let times = file_times(&atime, &mtime);
        Ok(self.dir_mut(&self_)?.and_then(|dir| {
            let path = relative(&path)?;
            if io(dir.metadata(path))?.is_dir() {
                io(dir.open_dir(path).and_then(|d| d.into_std_file().set_times(times)))
            } else {
                io(dir.open(path).and_then(|f| f.into_std().set_times(times)))
            }
        }))
    }

    fn link_at(
        &mut self,
        self_: HostResource<types::Descriptor>,
        _: PathFlags,
        old_path: String,
        new_descriptor: HostResource<types::Descriptor>,
        new_path: String,
    ) -> FsResult<()> {
        let old = match self.dir_mut(&self_)? {
            Ok(d) => d,
            Err(e) => return Ok(Err(e)),
        };
        Ok(self
            .dir_mut(&new_descriptor)?
            .and_then(|new| io(old.hard_link(relative(&old_path)?, &new, relative(&new_path)?))))
    }

    fn open_at(
        &mut self,
        self_: HostResource<types::Descriptor>,
        _: PathFlags,
        path: String,
        open_flags: OpenFlags,
        flags: DescriptorFlags,
    ) -> FsResult<HostResource<types::Descriptor>> {
        match self.open(&self_, &path, open_flags, flags)? {
            Ok(d) => Ok(Ok(self.table.push_own(Entry::Descriptor(d))?)),
            Err(e) => Ok(Err(e)),
        }
    }

    fn readlink_at(&mut self, self_: HostResource<types::Descriptor>, path: String) -> FsResult<String> {
        Ok(self.dir(&self_)?.and_then(|(dir, _)| {
            let target = io(dir.read_link(relative(&path)?))?;
            target.into_os_string().into_string().map_err(|_| ErrorCode::IllegalByteSequence)
        }))
    }

    fn remove_directory_at(&mut self, self_: HostResource<types::Descriptor>, path: String) -> FsResult<()> {
        Ok(self.dir_mut(&self_)?.and_then(|dir| io(dir.remove_dir(relative(&path)?))))
    }

    fn rename_at(
        &mut self,
        self_: HostResource<types::Descriptor>,
        old_path: String,
        new_descriptor: HostResource<types::Descriptor>,
        new_path: String,
    ) -> FsResult<()> {
        let old = match self.dir_mut(&self_)? {
            Ok(d) => d,
            Err(e) => return Ok(Err(e)),
        };
        Ok(self
            .dir_mut(&new_descriptor)?
            .and_then(|new| io(old.rename(relative(&old_path)?, &new, relative(&new_path)?))))
    }

    fn symlink_at(
        &mut self,
        self_: HostResource<types::Descriptor>,
        old_path: String,
        new_path: String,
    ) -> FsResult<()> {
        Ok(self.dir_mut(&self_)?.and_then(|dir| {
            // A link to an absolute path could never be followed inside the sandbox; refuse it as wasmtime does.
            let target = relative(&old_path)?;
            let link = relative(&new_path)?;
            #[cfg(unix)]
            {
                io(dir.symlink(target, link))
            }
            #[cfg(not(unix))]
            {
                let _ = (dir, target, link);
                Err(ErrorCode::Unsupported)
            }
        }))
    }

    fn unlink_file_at(&mut self, self_: HostResource<types::Descriptor>, path: String) -> FsResult<()> {
        Ok(self.dir_mut(&self_)?.and_then(|dir| io(dir.remove_file(relative(&path)?))))
    }

    fn is_same_object(
        &mut self,
        self_: HostResource<types::Descriptor>,
        other: HostResource<types::Descriptor>,
    ) -> Result<bool> {
        let a = self.metadata(&self_)?.map(|m| hash_of(&m));
        let b = self.metadata(&other)?.map(|m| hash_of(&m));
        Ok(matches!((a, b), (Ok(a), Ok(b)) if a.lower == b.lower && a.upper == b.upper))
    }

    fn metadata_hash(&mut self, self_: HostResource<types::Descriptor>) -> FsResult<MetadataHashValue> {
        Ok(self.metadata(&self_)?.map(|m| hash_of(&m)))
    }

    fn metadata_hash_at(
        &mut self,
        self_: HostResource<types::Descriptor>,
        path_flags: PathFlags,
        path: String,
    ) -> FsResult<MetadataHashValue> {
        Ok(self.metadata_at(&self_, path_flags, &path)?.map(|m| hash_of(&m)))
    }

    fn drop(&mut self, rep: HostResource<types::Descriptor>) -> Result<()> {
        self.table.remove(rep.rep()).map(|_| ())
    }
}

impl types::HostDirectoryEntryStream for WasiCtx {
    fn read_directory_entry(
        &mut self,
        self_: HostResource<types::DirectoryEntryStream>,
    ) -> FsResult<Option<DirectoryEntry>> {
        Ok(self.table.dir_entries(self_.rep())?.0.pop_front().transpose())
    }

    fn drop(&mut self, rep: HostResource<types::DirectoryEntryStream>) -> Result<()> {
        self.table.remove(rep.rep()).map(|_| ())
    }
}

impl types::Host for WasiCtx {
    fn filesystem_error_code(&mut self, err: HostResource<types::Error>) -> Result<Option<ErrorCode>> {
        Ok(self.table.error(err.rep())?.code)
    }
}

impl preopens::Host for WasiCtx {
    fn get_directories(&mut self) -> Result<Vec<(HostResource<types::Descriptor>, String)>> {
        let dirs: Vec<_> = self.preopens.iter().map(|p| (Arc::clone(&p.dir), p.perms, p.guest_path.clone())).collect();
        let mut out = Vec::with_capacity(dirs.len());
        for (dir, perms, path) in dirs {
            out.push((self.table.push_own(Entry::Descriptor(Descriptor::Dir { dir, perms }))?, path));
        }
        Ok(out)
    }
}
