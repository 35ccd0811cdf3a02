//! Commands that work on the local store directly: add, get, CAR import and
//! export, bucket creation.

use std::fs::File;
use std::io::{BufReader, BufWriter, Read, Write};
use std::path::Path;

use anyhow::{Context, Result, bail};
use cairn_dag::car::{CarReader, CarWriter, DagWalk, WalkOptions};
use cairn_dag::reader::FileReader;
use cairn_dag::fs::{AddOptions, add_dir_with};
use cairn_dag::{Block, FileBuilder, Profile};
use cairn_gateway::s3::read::StoreSource;
use cairn_store::{Store, StoreError};
use cid::Cid;

use crate::progress;

const READ_SIZE: usize = 1 << 20;

/// Opens the store, turning "held by another process" into advice.
pub fn open_store(dir: &Path) -> Result<Store> {
    match Store::open(dir) {
        Ok(s) => Ok(s),
        Err(StoreError::Locked { path }) => bail!(
            "the data dir {} is in use by a running `cairn gateway`; use its S3 or HTTP endpoints, or stop it first",
            path.display()
        ),
        Err(e) => Err(e).with_context(|| format!("opening the store in {}", dir.display())),
    }
}

fn parse_cid(s: &str) -> Result<Cid> {
    Cid::try_from(s).with_context(|| format!("{s:?} is not a valid CID"))
}

/// `cairn add`.
pub fn add(path: &Path, profile: Profile, only_hash: bool, recursive: bool, hidden: bool, dir: &Path) -> Result<()> {
    let meta = std::fs::metadata(path).with_context(|| format!("reading {}", path.display()))?;
    if meta.is_dir() && !recursive {
        bail!("{} is a directory: use -r to add it recursively", path.display());
    }
    let cid = if meta.is_dir() {
        add_dir(path, AddOptions { profile, include_hidden: hidden }, only_hash, dir)?
    } else if only_hash {
        let mut sink = |_: Block| Ok::<(), StoreError>(());
        hash_file(path, meta.len(), profile, &mut sink)?
    } else {
        let store = open_store(dir)?;
        let mut upload = store.begin_upload()?;
        let result = {
            let mut sink = |b: Block| upload.put_block(b.cid.hash(), &b.data);
            hash_file(path, meta.len(), profile, &mut sink)
        };
        match result {
            Ok(cid) => {
                upload.commit_pin(cid)?;
                cid
            }
            Err(e) => {
                let _ = upload.abort();
                return Err(e);
            }
        }
    };
    println!("{cid}");
    Ok(())
}

fn add_dir(path: &Path, options: AddOptions, only_hash: bool, dir: &Path) -> Result<Cid> {
    let context = || format!("adding {}", path.display());
    if only_hash {
        let mut sink = |_: Block| Ok::<(), StoreError>(());
        return Ok(add_dir_with(path, options, &mut sink).with_context(context)?.cid);
    }
    let store = open_store(dir)?;
    let mut upload = store.begin_upload()?;
    let bar = progress::bytes(None, "adding");
    let result = {
        let mut sink = |b: Block| {
            bar.inc(b.data.len() as u64);
            upload.put_block(b.cid.hash(), &b.data)
        };
        add_dir_with(path, options, &mut sink)
    };
    bar.finish_and_clear();
    match result {
        Ok(root) => {
            upload.commit_pin(root.cid)?;
            Ok(root.cid)
        }
        Err(e) => {
            let _ = upload.abort();
            Err(e).with_context(context)
        }
    }
}

fn hash_file(
    path: &Path,
    len: u64,
    profile: Profile,
    sink: &mut impl FnMut(Block) -> Result<(), StoreError>,
) -> Result<Cid> {
    let mut file = File::open(path).with_context(|| format!("opening {}", path.display()))?;
    let bar = progress::bytes(Some(len), "adding");
    let mut builder = FileBuilder::new(profile);
    let mut buf = vec![0u8; READ_SIZE];
    loop {
        let n = file.read(&mut buf).with_context(|| format!("reading {}", path.display()))?;
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

/// `cairn get`.
pub fn get(cid: &str, output: &Path, dir: &Path) -> Result<()> {
    let cid = parse_cid(cid)?;
    let store = open_store(dir)?;
    let source = StoreSource(store);
    let size = cairn_dag::reader::file_size(&source, &cid).with_context(|| format!("reading {cid}"))?;
    let tmp = output.with_extension("cairn-partial");
    let result = (|| -> Result<()> {
        let mut out = BufWriter::new(File::create(&tmp).with_context(|| format!("creating {}", tmp.display()))?);
        let bar = progress::bytes(Some(size), "getting");
        for piece in FileReader::new(&source, cid) {
            let piece = piece.with_context(|| format!("reading {cid}"))?;
            out.write_all(&piece)?;
            bar.inc(piece.len() as u64);
        }
        out.into_inner().map_err(|e| e.into_error())?.sync_all()?;
        bar.finish_and_clear();
        std::fs::rename(&tmp, output).with_context(|| format!("writing {}", output.display()))?;
        Ok(())
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}

/// `cairn car export`.
pub fn car_export(cid: &str, output: Option<&Path>, dir: &Path) -> Result<()> {
    let cid = parse_cid(cid)?;
    let store = open_store(dir)?;
    let source = StoreSource(store);
    let out: Box<dyn Write> = match output {
        Some(p) => Box::new(File::create(p).with_context(|| format!("creating {}", p.display()))?),
        None => Box::new(std::io::stdout().lock()),
    };
    let mut car = CarWriter::new(BufWriter::new(out), &[cid])?;
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

/// `cairn car import`: all or nothing.
pub fn car_import(file: &Path, dir: &Path) -> Result<()> {
    let input = File::open(file).with_context(|| format!("opening {}", file.display()))?;
    let len = input.metadata().map(|m| m.len()).ok();
    let mut reader = CarReader::new(BufReader::with_capacity(READ_SIZE, input))
        .with_context(|| format!("reading {}", file.display()))?;
    let store = open_store(dir)?;
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
pub fn bucket_create(name: &str, profile: Profile, dir: &Path) -> Result<()> {
    let store = open_store(dir)?;
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0);
    store.create_bucket(name, profile.name(), now)?;
    eprintln!("created bucket {name} with profile {profile}");
    Ok(())
}
