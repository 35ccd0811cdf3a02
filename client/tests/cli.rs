//! The `cairn` binary as a user runs it: real processes, a real store on disk.

use std::path::Path;
use std::process::{Command, Output};

fn cairn(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_cairn"))
        .args(args)
        .env_remove("CAIRN_CONFIG")
        .env_remove("CAIRN_DATA_DIR")
        .output()
        .unwrap_or_else(|e| panic!("running cairn: {e}"))
}

fn ok(args: &[&str]) -> String {
    let out = cairn(args);
    assert!(
        out.status.success(),
        "cairn {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap_or_default()
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap_or_default()
}

#[test]
fn only_hash_prints_the_cid_alone_for_both_profiles() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let file = dir.path().join("hw.txt");
    std::fs::write(&file, b"hello world").unwrap_or_default();
    assert_eq!(
        ok(&["add", s(&file), "--only-hash"]),
        "bafkreifzjut3te2nhyekklss27nh3k72ysco7y32koao5eei66wof36n5e\n"
    );
    assert_eq!(
        ok(&["add", s(&file), "--profile", "kubo-legacy", "--only-hash"]),
        "Qmf412jQZiuVUtdgnB36FXFX7xg5V6KEbSJ4dpQuhkLyfD\n"
    );
    assert_eq!(
        ok(&[
            "add",
            s(&file),
            "--profile",
            "unixfs-v0-2015",
            "--only-hash"
        ]),
        "Qmf412jQZiuVUtdgnB36FXFX7xg5V6KEbSJ4dpQuhkLyfD\n"
    );
    // --only-hash stores nothing: no data dir appears.
    let data = dir.path().join("data");
    ok(&["add", s(&file), "--only-hash", "--data-dir", s(&data)]);
    assert!(!data.exists());
}

#[test]
fn add_get_and_car_round_trip_across_stores() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let file = dir.path().join("data.bin");
    let bytes: Vec<u8> = (0..(2 << 20) + 777)
        .map(|i: u32| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect();
    std::fs::write(&file, &bytes).unwrap_or_default();
    let (a, b) = (dir.path().join("a"), dir.path().join("b"));
    let cid = ok(&["add", s(&file), "--data-dir", s(&a)])
        .trim()
        .to_owned();
    assert_eq!(ok(&["add", s(&file), "--only-hash"]).trim(), cid);

    let out = dir.path().join("out.bin");
    ok(&["get", &cid, "-o", s(&out), "--data-dir", s(&a)]);
    assert_eq!(std::fs::read(&out).unwrap_or_default(), bytes);

    let car = dir.path().join("x.car");
    ok(&["car", "export", &cid, "-o", s(&car), "--data-dir", s(&a)]);
    assert_eq!(
        ok(&["car", "import", s(&car), "--data-dir", s(&b)]).trim(),
        cid
    );
    let out2 = dir.path().join("out2.bin");
    ok(&["get", &cid, "-o", s(&out2), "--data-dir", s(&b)]);
    assert_eq!(std::fs::read(&out2).unwrap_or_default(), bytes);
}

#[test]
fn a_corrupt_car_is_refused_and_stores_nothing() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let file = dir.path().join("data.bin");
    std::fs::write(&file, vec![42u8; 700_000]).unwrap_or_default();
    let a = dir.path().join("a");
    let cid = ok(&["add", s(&file), "--data-dir", s(&a)])
        .trim()
        .to_owned();
    let car = dir.path().join("x.car");
    ok(&["car", "export", &cid, "-o", s(&car), "--data-dir", s(&a)]);
    let mut raw = std::fs::read(&car).unwrap_or_default();
    let last = raw.len() - 1;
    raw[last] ^= 0xff;
    std::fs::write(&car, &raw).unwrap_or_default();

    let b = dir.path().join("b");
    let out = cairn(&["car", "import", s(&car), "--data-dir", s(&b)]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("does not match its CID") && err.contains("nothing was stored"),
        "{err}"
    );
    // Nothing of it is readable from the second store.
    let got = cairn(&[
        "get",
        &cid,
        "-o",
        s(&dir.path().join("o")),
        "--data-dir",
        s(&b),
    ]);
    assert!(!got.status.success());
}

#[test]
fn directories_add_recursively_and_hidden_entries_are_opt_in() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let root = dir.path().join("tree");
    std::fs::create_dir_all(root.join("sub")).unwrap_or_default();
    std::fs::write(root.join("a.txt"), b"hello world").unwrap_or_default();
    std::fs::write(root.join("sub/b.txt"), b"bee").unwrap_or_default();
    std::fs::write(root.join(".hidden"), b"secret").unwrap_or_default();
    let refused = cairn(&["add", s(&root), "--only-hash"]);
    assert!(
        !refused.status.success(),
        "a directory without -r is refused"
    );
    let plain = ok(&["add", "-r", s(&root), "--only-hash"]);
    let hidden = ok(&["add", "-r", "--hidden", s(&root), "--only-hash"]);
    assert_ne!(plain, hidden, "--hidden includes .hidden");
    let data = dir.path().join("data");
    assert_eq!(ok(&["add", "-r", s(&root), "--data-dir", s(&data)]), plain);
}

/// A `cairn gateway` process on free ports, killed on drop.
struct Gateway(std::process::Child);

impl Drop for Gateway {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn free_port() -> u16 {
    let ip = std::net::IpAddr::V4(std::net::Ipv4Addr::LOCALHOST);
    cairn_types::ports::free_ports(ip, 1)
        .ok()
        .and_then(|p| p.first().copied())
        .unwrap_or_else(|| panic!("no free port"))
}

fn start_gateway(data: &Path) -> Gateway {
    use std::io::BufRead;
    let addr = |p: u16| format!("127.0.0.1:{p}");
    let mut child = Command::new(env!("CARGO_BIN_EXE_cairn"))
        .args(["gateway", "--data-dir", s(data)])
        .args([
            "--s3-addr",
            &addr(free_port()),
            "--http-addr",
            &addr(free_port()),
        ])
        .args(["--metrics-addr", &addr(free_port())])
        .env("CAIRN_S3_ACCESS_KEY", "test-access")
        .env("CAIRN_S3_SECRET_KEY", "test-secret")
        .env_remove("CAIRN_CONFIG")
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("starting the gateway: {e}"));
    let stderr = child.stderr.take().unwrap_or_else(|| panic!("no stderr"));
    let mut lines = std::io::BufReader::new(stderr).lines();
    let ready = lines
        .by_ref()
        .map_while(Result::ok)
        .any(|l| l.contains("cairn gateway ready"));
    assert!(ready, "the gateway never said it was ready");
    std::thread::spawn(move || lines.for_each(drop));
    Gateway(child)
}

#[test]
fn commands_go_through_a_running_gateway_instead_of_failing_on_its_lock() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let data = dir.path().join("data");
    let file = dir.path().join("f.bin");
    let bytes: Vec<u8> = (0..1_500_000u32).map(|i| (i % 251) as u8).collect();
    std::fs::write(&file, &bytes).unwrap_or_default();
    let _gw = start_gateway(&data);

    let cid = ok(&["add", s(&file), "--data-dir", s(&data)])
        .trim()
        .to_owned();
    assert_eq!(ok(&["add", s(&file), "--only-hash"]).trim(), cid);
    let out = dir.path().join("out.bin");
    ok(&["get", &cid, "-o", s(&out), "--data-dir", s(&data)]);
    assert_eq!(std::fs::read(&out).unwrap_or_default(), bytes);

    let car = dir.path().join("x.car");
    ok(&["car", "export", &cid, "-o", s(&car), "--data-dir", s(&data)]);
    let other = dir.path().join("other");
    assert_eq!(
        ok(&["car", "import", s(&car), "--data-dir", s(&other)]).trim(),
        cid
    );

    let tree = dir.path().join("tree");
    std::fs::create_dir_all(tree.join("sub")).unwrap_or_default();
    std::fs::write(tree.join("sub/x.txt"), b"x").unwrap_or_default();
    let dir_cid = ok(&["add", "-r", s(&tree), "--data-dir", s(&data)]);
    assert_eq!(ok(&["add", "-r", s(&tree), "--only-hash"]), dir_cid);

    ok(&[
        "bucket",
        "create",
        "photos",
        "--profile",
        "kubo-legacy",
        "--data-dir",
        s(&data),
    ]);
    let again = cairn(&["bucket", "create", "photos", "--data-dir", s(&data)]);
    assert!(!again.status.success());
    let err = String::from_utf8_lossy(&again.stderr);
    assert!(
        err.contains("already exists") && !err.to_lowercase().contains("lock"),
        "{err}"
    );

    // A corrupt CAR is refused by the gateway too, and stores nothing.
    let mut raw = std::fs::read(&car).unwrap_or_default();
    let last = raw.len() - 1;
    raw[last] ^= 1;
    let bad = dir.path().join("bad.car");
    std::fs::write(&bad, &raw).unwrap_or_default();
    let refused = cairn(&["car", "import", s(&bad), "--data-dir", s(&data)]);
    assert!(!refused.status.success());
    assert!(String::from_utf8_lossy(&refused.stderr).contains("nothing was stored"));
}

#[test]
fn commp_prints_filecoin_piece_cids() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let file = dir.path().join("zeros");
    // A 2 KiB sector's worth of zeros: rust-fil-proofs 19.1.0 gives this piece CID.
    std::fs::write(&file, vec![0u8; 2032]).unwrap_or_default();
    let out = ok(&["commp", s(&file), "--json"]);
    let v: serde_json::Value = serde_json::from_str(&out).unwrap_or_else(|e| panic!("{e}: {out}"));
    assert_eq!(
        v["piece_cid"],
        "baga6ea4seaqpy7usqklokfx2vxuynmupslkeutzexe2uqurdg5vhtebhxqmpqmy"
    );
    assert_eq!(v["padded_size"], 2048);
    assert_eq!(v["unpadded_size"], 2032);
    assert!(
        v["piece_cid_v2"]
            .as_str()
            .is_some_and(|c| c.starts_with("bafkzcib")),
        "{out}"
    );
    let plain = ok(&["commp", s(&file)]);
    assert!(
        plain.contains("baga6ea4seaqpy7usqklokfx2vxuynmupslkeutzexe2uqurdg5vhtebhxqmpqmy"),
        "{plain}"
    );
}
