//! Commands on a data dir: add, get, CAR import and export, bucket creation.
//!
//! Each opens the store directly when it is free; when a running gateway
//! holds it, the same work goes through the gateway's control socket
//! ([`crate::remote`]). Either way the user sees the same output, never a
//! lock error.

use std::fs::File;
use std::io::{BufReader, BufWriter, Read, Write};
use std::path::Path;

use anyhow::{Context, Result, bail};
use cairn_dag::car::{CarReader, CarWriter, DagWalk, WalkOptions};
use cairn_dag::fs::{AddOptions, add_dir_with};
use cairn_dag::reader::FileReader;
use cairn_dag::{Block, FileBuilder, Profile};
use cairn_gateway::s3::read::StoreSource;
use cairn_store::{Store, StoreError};
use cid::Cid;

use crate::progress;
use crate::remote::Remote;

const READ_SIZE: usize = 1 << 20;

/// Where a command's work goes.
#[derive(Debug)]
pub enum Backend {
    /// The store, opened by this process.
    Local(Store),
    /// A running gateway that holds the store.
    Remote(Remote),
}

/// Opens the store, or finds the gateway that holds it.
pub fn backend(dir: &Path) -> Result<Backend> {
    match Store::open(dir) {
        Ok(s) => Ok(Backend::Local(s)),
        Err(StoreError::Locked { .. }) => Ok(Backend::Remote(Remote::connect(dir)?)),
        Err(e) => Err(e).with_context(|| format!("opening the store in {}", dir.display())),
    }
}

/// Opens the store for a process that must own it (the gateway).
pub fn open_store(dir: &Path) -> Result<Store> {
    match Store::open(dir) {
        Ok(s) => Ok(s),
        Err(StoreError::Locked { path }) => bail!(
            "the data dir {} is in use by another cairn gateway (lock {}); stop it first or pick another --data-dir",
            dir.display(),
            path.display()
        ),
        Err(e) => Err(e).with_context(|| format!("opening the store in {}", dir.display())),
    }
}

fn parse_cid(s: &str) -> Result<Cid> {
    Cid::try_from(s).with_context(|| format!("{s:?} is not a valid CID"))
}

/// Stores the blocks `build` emits, pinned under the root it returns.
fn store_blocks(
    dir: &Path,
    build: impl FnOnce(&mut dyn FnMut(Block) -> Result<()>) -> Result<Cid>,
) -> Result<Cid> {
    match backend(dir)? {
        Backend::Remote(remote) => remote.store_blocks(build),
        Backend::Local(store) => {
            let mut upload = store.begin_upload()?;
            let result = {
                let mut sink =
                    |b: Block| -> Result<()> { Ok(upload.put_block(b.cid.hash(), &b.data)?) };
                build(&mut sink)
            };
            match result {
                Ok(cid) => {
                    upload.commit_pin(cid)?;
                    Ok(cid)
                }
                Err(e) => {
                    let _ = upload.abort();
                    Err(e)
                }
            }
        }
    }
}

/// `cairn add`.
pub fn add(
    path: &Path,
    profile: Profile,
    only_hash: bool,
    recursive: bool,
    hidden: bool,
    dir: &Path,
) -> Result<()> {
    let meta = std::fs::metadata(path).with_context(|| format!("reading {}", path.display()))?;
    if meta.is_dir() && !recursive {
        bail!(
            "{} is a directory: use -r to add it recursively",
            path.display()
        );
    }
    let build = |sink: &mut dyn FnMut(Block) -> Result<()>| -> Result<Cid> {
        if meta.is_dir() {
            let options = AddOptions {
                profile,
                include_hidden: hidden,
            };
            let bar = progress::bytes(None, "adding");
            let mut counted = |b: Block| {
                bar.inc(b.data.len() as u64);
                sink(b)
            };
            let root = add_dir_with(path, options, &mut counted)
                .with_context(|| format!("adding {}", path.display()));
            bar.finish_and_clear();
            Ok(root?.cid)
        } else {
            hash_file(path, meta.len(), profile, sink)
        }
    };
    let cid = if only_hash {
        let mut discard = |_: Block| Ok(());
        build(&mut discard)?
    } else {
        store_blocks(dir, build)?
    };
    println!("{cid}");
    Ok(())
}

fn hash_file(
    path: &Path,
    len: u64,
    profile: Profile,
    sink: &mut dyn FnMut(Block) -> Result<()>,
) -> Result<Cid> {
    let mut file = File::open(path).with_context(|| format!("opening {}", path.display()))?;
    let bar = progress::bytes(Some(len), "adding");
    let mut builder = FileBuilder::new(profile);
    let mut buf = vec![0u8; READ_SIZE];
    loop {
        let n = file
            .read(&mut buf)
            .with_context(|| format!("reading {}", path.display()))?;
        if n == 0 {
            break;
        }
        builder.write(buf.get(..n).unwrap_or_default(), sink)?;
        bar.inc(n as u64);
    }
    let root = builder.finish(sink)?;
    bar.finish_and_clear();
    Ok(root.cid)
}

/// Writes to `output` through a temporary file, renamed into place only
/// when everything was written.
fn write_atomically(output: &Path, fill: impl FnOnce(&mut dyn Write) -> Result<()>) -> Result<()> {
    let tmp = output.with_extension("cairn-partial");
    let result = (|| -> Result<()> {
        let mut out = BufWriter::new(
            File::create(&tmp).with_context(|| format!("creating {}", tmp.display()))?,
        );
        fill(&mut out)?;
        out.into_inner().map_err(|e| e.into_error())?.sync_all()?;
        std::fs::rename(&tmp, output).with_context(|| format!("writing {}", output.display()))
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}

/// `cairn get`.
pub fn get(cid: &str, output: &Path, dir: &Path) -> Result<()> {
    let cid = parse_cid(cid)?;
    match backend(dir)? {
        Backend::Remote(remote) => write_atomically(output, |out| {
            remote
                .fetch(&format!("/ipfs/{cid}"), out)
                .map(drop)
                .with_context(|| format!("reading {cid}"))
        }),
        Backend::Local(store) => {
            let source = StoreSource(store);
            let size = cairn_dag::reader::file_size(&source, &cid)
                .with_context(|| format!("reading {cid}"))?;
            write_atomically(output, |out| {
                let bar = progress::bytes(Some(size), "getting");
                for piece in FileReader::new(&source, cid) {
                    let piece = piece.with_context(|| format!("reading {cid}"))?;
                    out.write_all(&piece)?;
                    bar.inc(piece.len() as u64);
                }
                bar.finish_and_clear();
                Ok(())
            })
        }
    }
}

/// `cairn car export`.
pub fn car_export(cid: &str, output: Option<&Path>, dir: &Path) -> Result<()> {
    let cid = parse_cid(cid)?;
    let backend = backend(dir)?;
    let export = |out: &mut dyn Write| -> Result<()> {
        match &backend {
            Backend::Remote(remote) => remote
                .fetch(&format!("/ipfs/{cid}?format=car"), out)
                .map(drop),
            Backend::Local(store) => {
                let source = StoreSource(store.clone());
                let mut car = CarWriter::new(out, &[cid])?;
                let bar = progress::bytes(None, "exporting");
                for block in DagWalk::new(&source, cid, WalkOptions::default()) {
                    let block = block.with_context(|| format!("reading the DAG under {cid}"))?;
                    car.write_block(&block.cid, &block.data)?;
                    bar.set_position(car.bytes_written());
                }
                car.finish()?.flush()?;
                bar.finish_and_clear();
                Ok(())
            }
        }
    };
    match output {
        Some(p) => write_atomically(p, export),
        None => {
            let mut stdout = BufWriter::new(std::io::stdout().lock());
            export(&mut stdout)?;
            stdout.flush()?;
            Ok(())
        }
    }
}

/// `cairn car import`: all or nothing.
pub fn car_import(file: &Path, dir: &Path) -> Result<()> {
    let store = match backend(dir)? {
        Backend::Remote(remote) => {
            let roots = remote.import_car(file)?;
            for root in roots {
                println!("{root}");
            }
            return Ok(());
        }
        Backend::Local(store) => store,
    };
    let input = File::open(file).with_context(|| format!("opening {}", file.display()))?;
    let len = input.metadata().map(|m| m.len()).ok();
    let mut reader = CarReader::new(BufReader::with_capacity(READ_SIZE, input))
        .with_context(|| format!("refused {}: nothing was stored", file.display()))?;
    let mut upload = store.begin_upload()?;
    let bar = progress::bytes(len, "importing");
    let result = (|| -> Result<Vec<Cid>> {
        while let Some(block) = reader.next_block()? {
            upload.put_block(block.cid.hash(), &block.data)?;
            bar.inc(block.data.len() as u64);
        }
        Ok(reader.finish()?.roots)
    })();
    bar.finish_and_clear();
    let roots = match result {
        Ok(roots) => roots,
        Err(e) => {
            let _ = upload.abort();
            return Err(e.context(format!("refused {}: nothing was stored", file.display())));
        }
    };
    let first = roots.first().copied().context("CAR has no roots")?;
    upload.commit_pin(first)?;
    for root in roots.iter().skip(1) {
        // Further roots share the blocks just committed; pin each too.
        let mut extra = store.begin_upload()?;
        for block in DagWalk::new(&StoreSource(store.clone()), *root, WalkOptions::default()) {
            let block = block?;
            extra.put_block(block.cid.hash(), &block.data)?;
        }
        extra.commit_pin(*root)?;
    }
    for root in roots {
        println!("{root}");
    }
    Ok(())
}

/// `cairn bucket create`.
pub fn bucket_create(
    name: &str,
    profile: Profile,
    placement: Option<cairn_store::BucketPlacement>,
    dir: &Path,
) -> Result<()> {
    if cairn_gateway::s3::validate_bucket_name(name).is_err() {
        bail!("{name:?} is not a valid bucket name (3-63 lowercase letters, digits, '-' and '.')");
    }
    match backend(dir)? {
        Backend::Remote(remote) => remote.bucket_create(name, profile, placement)?,
        Backend::Local(store) => {
            let now = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_millis() as i64)
                .unwrap_or(0);
            store.create_bucket_with(name, profile.name(), now, placement)?;
        }
    }
    match placement {
        Some(p) => eprintln!(
            "created bucket {name} with profile {profile}, placed {}+{} for {} epochs at most {} per byte-epoch",
            p.k, p.m, p.duration, p.max_price
        ),
        None => eprintln!("created bucket {name} with profile {profile}"),
    }
    Ok(())
}
