//! Content types for deserialized files: by file name extension first, else
//! by sniffing the first bytes.
//!
//! The path gateway spec asks for sniffing "based on file name ... and magic
//! bytes" so that browsers render what they are given. The tables are
//! deliberately small; anything unrecognised is `application/octet-stream`,
//! and every response carries `X-Content-Type-Options: nosniff` so the
//! browser does not second-guess us.

/// How many leading bytes [`sniff`] looks at.
pub const SNIFF_LEN: u64 = 512;

/// The content type for a file name's extension, if the name has a known one.
pub fn from_name(name: &str) -> Option<&'static str> {
    let (_, ext) = name.rsplit_once('.')?;
    Some(match ext.to_ascii_lowercase().as_str() {
        "html" | "htm" => "text/html; charset=utf-8",
        "css" => "text/css; charset=utf-8",
        "js" | "mjs" => "text/javascript; charset=utf-8",
        "json" => "application/json",
        "txt" | "md" => "text/plain; charset=utf-8",
        "csv" => "text/csv; charset=utf-8",
        "xml" => "application/xml",
        "svg" => "image/svg+xml",
        "png" => "image/png",
        "jpg" | "jpeg" => "image/jpeg",
        "gif" => "image/gif",
        "webp" => "image/webp",
        "avif" => "image/avif",
        "ico" => "image/x-icon",
        "pdf" => "application/pdf",
        "wasm" => "application/wasm",
        "mp4" => "video/mp4",
        "webm" => "video/webm",
        "mp3" => "audio/mpeg",
        "ogg" => "audio/ogg",
        "wav" => "audio/wav",
        "woff2" => "font/woff2",
        "zip" => "application/zip",
        "gz" => "application/gzip",
        "tar" => "application/x-tar",
        "car" => "application/vnd.ipld.car",
        _ => return None,
    })
}

/// The content type suggested by a file's first bytes.
pub fn sniff(head: &[u8]) -> &'static str {
    const MAGIC: [(&[u8], &str); 5] = [
        (b"\x89PNG\r\n\x1a\n", "image/png"),
        (b"\xff\xd8\xff", "image/jpeg"),
        (b"GIF87a", "image/gif"),
        (b"GIF89a", "image/gif"),
        (b"%PDF-", "application/pdf"),
    ];
    if let Some((_, mime)) = MAGIC.iter().find(|(magic, _)| head.starts_with(magic)) {
        return mime;
    }
    let text = trim_utf8_tail(head);
    let Ok(text) = std::str::from_utf8(text) else {
        return "application/octet-stream";
    };
    if text
        .chars()
        .any(|c| c.is_control() && !c.is_ascii_whitespace())
    {
        return "application/octet-stream";
    }
    let start = text
        .trim_start()
        .get(..14)
        .unwrap_or(text.trim_start())
        .to_ascii_lowercase();
    if start.starts_with("<!doctype html") || start.starts_with("<html") {
        "text/html; charset=utf-8"
    } else if start.starts_with('{') || start.starts_with('[') {
        "application/json"
    } else {
        "text/plain; charset=utf-8"
    }
}

/// Drops an incomplete UTF-8 sequence cut off at the end of the sniff window.
fn trim_utf8_tail(head: &[u8]) -> &[u8] {
    match std::str::from_utf8(head) {
        Ok(_) => head,
        Err(e) if e.error_len().is_none() => head.get(..e.valid_up_to()).unwrap_or(head),
        Err(_) => head,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_decide_first() {
        assert_eq!(from_name("a/b/photo.JPG"), Some("image/jpeg"));
        assert_eq!(from_name("index.html"), Some("text/html; charset=utf-8"));
        assert_eq!(from_name("README"), None);
        assert_eq!(from_name("archive.unknownext"), None);
    }

    #[test]
    fn sniff_table() {
        let rows: [(&[u8], &str); 9] = [
            (b"\x89PNG\r\n\x1a\n\0\0", "image/png"),
            (b"\xff\xd8\xff\xe0", "image/jpeg"),
            (b"GIF89a..", "image/gif"),
            (b"%PDF-1.7", "application/pdf"),
            (b"  <!DOCTYPE html><p>", "text/html; charset=utf-8"),
            (b"{\"a\": 1}", "application/json"),
            (b"hello, world\n", "text/plain; charset=utf-8"),
            (
                "caf\u{e9}".as_bytes().get(..4).unwrap_or_default(),
                "text/plain; charset=utf-8",
            ), // cut mid-char
            (b"\0\x01\x02binary", "application/octet-stream"),
        ];
        for (head, want) in rows {
            assert_eq!(sniff(head), want, "{head:?}");
        }
        assert_eq!(sniff(&[0xff, 0xfe, 0x00]), "application/octet-stream");
    }
}
