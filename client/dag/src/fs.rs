//! `add -r`: a directory on disk to a UnixFS DAG, with kubo's CIDs.
//!
//! This is the crate's one module that does its own I/O; the rules live in
//! [`crate::dir`], [`crate::hamt`] and [`crate::file`], and this module only
//! walks the tree and feeds them. It mirrors what `ipfs add -r` does by
//! default (boxo `files.NewSerialFileWithFilter` plus kubo's adder):
//! - entries are visited in name order, depth first, and every block goes to
//!   the sink as soon as it is complete (a directory's blocks right after
//!   its last entry's);
//! - files are streamed through [`FileBuilder`] in 1 MiB reads, so memory is
//!   one chunk plus the entries of the directories on the current path;
//! - symbolic links are not followed: each becomes a UnixFS `Symlink` node
//!   holding the link's target, as kubo stores them;
//! - names starting with `.` are skipped unless
//!   [`AddOptions::include_hidden`] is set, like kubo without `--hidden`;
//! - anything else (sockets, FIFOs, devices) and names that are not UTF-8
//!   are refused with an error naming the path, rather than silently left out.

use std::fs::{self, File};
use std::io::{self, Read};
use std::path::{Path, PathBuf};

use crate::dir::{DirBuilder, DirError, DirRoot, symlink_block};
use crate::{Block, FileBuilder, FileRoot, Profile};

/// What an error from a block sink is turned into.
pub type SinkError = Box<dyn std::error::Error + Send + Sync>;

/// Settings for [`add_dir_with`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AddOptions {
    /// The import profile.
    pub profile: Profile,
    /// Add entries whose names start with `.` (kubo's `--hidden`).
    pub include_hidden: bool,
}

impl AddOptions {
    /// Kubo's defaults for `profile`: hidden entries skipped.
    pub fn new(profile: Profile) -> AddOptions {
        AddOptions {
            profile,
            include_hidden: false,
        }
    }
}

/// Why a directory could not be added.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AddError {
    /// Reading the file system failed.
    #[error("{path}: {source}")]
    Io {
        /// The path being read.
        path: PathBuf,
        /// The error.
        source: io::Error,
    },
    /// The path given is not a directory.
    #[error("{path} is not a directory")]
    NotADirectory {
        /// The path.
        path: PathBuf,
    },
    /// An entry whose name is not UTF-8, which a UnixFS link cannot carry.
    #[error("{path}: name is not UTF-8")]
    NonUtf8Name {
        /// The entry.
        path: PathBuf,
    },
    /// An entry that is neither a file, a directory nor a symlink.
    #[error("{path}: cannot add a {kind}")]
    Unsupported {
        /// The entry.
        path: PathBuf,
        /// What it is.
        kind: &'static str,
    },
    /// The directory's entries cannot form a UnixFS directory.
    #[error("{path}: {source}")]
    Dir {
        /// The directory.
        path: PathBuf,
        /// Why.
        source: DirError,
    },
    /// The block sink failed.
    #[error("storing a block: {source}")]
    Sink {
        /// The sink's error.
        source: SinkError,
    },
}

/// Adds the directory at `path` with kubo's defaults for `profile`; every
/// block goes to `sink`. Returns the directory's root.
pub fn add_dir<E>(
    path: &Path,
    profile: Profile,
    sink: &mut impl FnMut(Block) -> Result<(), E>,
) -> Result<DirRoot, AddError>
where
    E: Into<SinkError>,
{
    add_dir_with(path, AddOptions::new(profile), sink)
}

/// [`add_dir`] with explicit options.
pub fn add_dir_with<E>(
    path: &Path,
    options: AddOptions,
    sink: &mut impl FnMut(Block) -> Result<(), E>,
) -> Result<DirRoot, AddError>
where
    E: Into<SinkError>,
{
    let meta = fs::metadata(path).map_err(|source| io_error(path, source))?;
    if !meta.is_dir() {
        return Err(AddError::NotADirectory {
            path: path.to_owned(),
        });
    }
    let mut sink = |block: Block| sink(block).map_err(|e| AddError::Sink { source: e.into() });
    let mut buf = vec![0u8; READ_SIZE];
    walk(path, options, &mut buf, &mut sink)
}

/// Bytes per file read; one buffer serves the whole walk.
const READ_SIZE: usize = 1 << 20;

fn io_error(path: &Path, source: io::Error) -> AddError {
    AddError::Io {
        path: path.to_owned(),
        source,
    }
}

/// A directory's errors while finishing: its own, or the sink's.
enum Finish {
    Dir(DirError),
    Add(AddError),
}

impl From<DirError> for Finish {
    fn from(e: DirError) -> Finish {
        Finish::Dir(e)
    }
}

fn walk(
    dir: &Path,
    options: AddOptions,
    buf: &mut [u8],
    sink: &mut impl FnMut(Block) -> Result<(), AddError>,
) -> Result<DirRoot, AddError> {
    let mut names = Vec::new();
    for entry in fs::read_dir(dir).map_err(|e| io_error(dir, e))? {
        let entry = entry.map_err(|e| io_error(dir, e))?;
        let path = entry.path();
        let name = entry
            .file_name()
            .into_string()
            .map_err(|_| AddError::NonUtf8Name { path: path.clone() })?;
        if !options.include_hidden && name.starts_with('.') {
            continue;
        }
        names.push(name);
    }
    names.sort_unstable();
    let mut builder = DirBuilder::new(options.profile);
    for name in names {
        let path = dir.join(&name);
        let file_type = fs::symlink_metadata(&path)
            .map_err(|e| io_error(&path, e))?
            .file_type();
        let (cid, dag_size) = if file_type.is_dir() {
            let root = walk(&path, options, buf, sink)?;
            (root.cid, root.dag_size)
        } else if file_type.is_file() {
            let root = add_file(&path, options.profile, buf, sink)?;
            (root.cid, root.dag_size)
        } else if file_type.is_symlink() {
            let target = fs::read_link(&path).map_err(|e| io_error(&path, e))?;
            let block = symlink_block(options.profile, &target_bytes(&path, &target)?);
            let (cid, size) = (block.cid, block.data.len() as u64);
            sink(block)?;
            (cid, size)
        } else {
            return Err(AddError::Unsupported {
                path,
                kind: special_kind(&file_type),
            });
        };
        builder
            .add(name, cid, dag_size)
            .map_err(|source| AddError::Dir {
                path: dir.to_owned(),
                source,
            })?;
    }
    let mut finish_sink = |block: Block| sink(block).map_err(Finish::Add);
    builder.finish(&mut finish_sink).map_err(|e| match e {
        Finish::Dir(source) => AddError::Dir {
            path: dir.to_owned(),
            source,
        },
        Finish::Add(e) => e,
    })
}

/// Streams one file through a [`FileBuilder`] in reads of `buf`'s size.
fn add_file(
    path: &Path,
    profile: Profile,
    buf: &mut [u8],
    sink: &mut impl FnMut(Block) -> Result<(), AddError>,
) -> Result<FileRoot, AddError> {
    let mut file = File::open(path).map_err(|e| io_error(path, e))?;
    let mut builder = FileBuilder::new(profile);
    loop {
        let n = match file.read(buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(io_error(path, e)),
        };
        builder.write(buf.get(..n).unwrap_or_default(), sink)?;
    }
    builder.finish(sink)
}

#[cfg(unix)]
fn target_bytes(_link: &Path, target: &Path) -> Result<Vec<u8>, AddError> {
    use std::os::unix::ffi::OsStrExt;
    Ok(target.as_os_str().as_bytes().to_vec())
}

#[cfg(not(unix))]
fn target_bytes(link: &Path, target: &Path) -> Result<Vec<u8>, AddError> {
    target
        .to_str()
        .map(|t| t.as_bytes().to_vec())
        .ok_or_else(|| AddError::NonUtf8Name {
            path: link.to_owned(),
        })
}

#[cfg(unix)]
fn special_kind(file_type: &fs::FileType) -> &'static str {
    use std::os::unix::fs::FileTypeExt;
    if file_type.is_fifo() {
        "FIFO"
    } else if file_type.is_socket() {
        "socket"
    } else if file_type.is_block_device() || file_type.is_char_device() {
        "device"
    } else {
        "special file"
    }
}

#[cfg(not(unix))]
fn special_kind(_file_type: &fs::FileType) -> &'static str {
    "special file"
}
