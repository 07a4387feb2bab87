//! An object file's metadata as Swift keeps it: a dict pickled with
//! protocol 2 (every key and value a `bytes`, the UTF-8 of Swift's native
//! string, so a py3 pickle, whose bytes are `_codecs.encode(..., 'latin1')`
//! calls), cut into 64 KiB pieces stored in the extended attributes
//! `user.swift.metadata`, `user.swift.metadata1`, `user.swift.metadata2`...,
//! and the MD5 hex of the whole pickle in `user.swift.metadata_checksum`.
//!
//! Read back as tolerantly as Swift's `read_metadata`: a missing checksum
//! is fine, a wrong one is `BadMetadata` (what Swift quarantines), pickles
//! written by Swift on Python 2 (`str` values, no `_codecs.encode` near the
//! start) have their byte strings read as Latin-1 except the `name`, as
//! Swift does since its bug 2012531.
//!
//! Values are Swift's *native* strings. Header values in Swift's object
//! server are WSGI strings (each byte of the header one code point,
//! Latin-1), and are stored as such: `native_from_header` /
//! `header_from_native` convert, so the bytes on disk match what Swift's
//! own server writes for the same request. Names (`name`) are real text.
//!
//! Pickles are read and written by the `serde-pickle` crate (its protocol-2
//! writer emits `bytes` exactly as Python 3 does, and its reader handles
//! the `_codecs.encode` and Python 2 string forms); extended attributes by
//! the `xattr` crate (safe calls on the open file descriptor, ENODATA as
//! None), so no pickle or syscall code is hand-written here.

use super::error::DiskError;
use md5::{Digest, Md5};
use serde_pickle::{DeOptions, HashableValue, SerOptions, Value};
use std::collections::BTreeMap;
use std::fs::File;
use std::io;
use std::path::Path;
use xattr::FileExt;

/// Metadata keys and values, as Swift's native strings.
pub type Metadata = BTreeMap<String, String>;

/// Swift's `METADATA_KEY`; pieces after the first add `1`, `2`...
pub const METADATA_KEY: &str = "user.swift.metadata";
/// Swift's `METADATA_CHECKSUM_KEY`.
pub const CHECKSUM_KEY: &str = "user.swift.metadata_checksum";
/// The size of each piece (`write_metadata`'s `xattr_size`).
pub const PIECE_SIZE: usize = 65536;

/// The pickle Swift writes for `metadata` (`pickle.dumps(_encode_metadata(
/// metadata), 2)`, up to key order and memo opcodes, which Python ignores).
pub fn to_pickle(metadata: &Metadata) -> Vec<u8> {
    let dict = metadata
        .iter()
        .map(|(k, v)| {
            (
                HashableValue::Bytes(k.as_bytes().to_vec()),
                Value::Bytes(v.as_bytes().to_vec()),
            )
        })
        .collect();
    // Serialising a Value of byte strings into a Vec cannot fail: the
    // only errors are the writer's (a Vec never fails) and unsupported
    // serde types (a Value has none).
    serde_pickle::value_to_vec(&Value::Dict(dict), SerOptions::new().proto_v2()).unwrap_or_default()
}

/// Reads a pickle as Swift's `_read_file_metadata` does after the
/// checksum: Err(detail) where Swift's unpickling or decoding raises.
pub fn from_pickle(raw: &[u8]) -> Result<Metadata, String> {
    let written_by_py3 = raw[..raw.len().min(32)]
        .windows(b"_codecs\nencode".len())
        .any(|w| w == b"_codecs\nencode");
    let value = serde_pickle::value_from_slice(raw, DeOptions::new())
        .map_err(|e| format!("not a pickle Swift reads: {e}"))?;
    let Value::Dict(dict) = value else {
        return Err("the pickle is not a dict".into());
    };
    let mut metadata = Metadata::new();
    for (key, value) in dict {
        let is_name = matches!(&key, HashableValue::Bytes(b) if b == b"name");
        let key = native(key.into_value(), false, written_by_py3)?;
        let value = native(value, is_name, written_by_py3)?;
        metadata.insert(key, value);
    }
    Ok(metadata)
}

/// Swift's `_decode_metadata` of one key or value.
fn native(value: Value, is_name: bool, written_by_py3: bool) -> Result<String, String> {
    match value {
        Value::Bytes(b) if !written_by_py3 && !is_name => {
            Ok(b.iter().map(|&c| c as char).collect())
        }
        Value::Bytes(b) => {
            String::from_utf8(b).map_err(|_| "a byte string that is not UTF-8".to_string())
        }
        Value::String(s) => Ok(s),
        // Swift itself writes only strings; integers from hand-made files
        // read as Python's str() of them.
        Value::I64(n) => Ok(n.to_string()),
        Value::Int(n) => Ok(n.to_string()),
        Value::Bool(b) => Ok(if b { "True" } else { "False" }.to_string()),
        other => Err(format!("unsupported metadata value {other:?}")),
    }
}

/// Writes `metadata` onto an open file (Swift's `write_metadata`): the
/// pieces, then the checksum. ENOSPC, EDQUOT and E2BIG are `NoSpace`.
pub fn write(file: &File, path: &Path, metadata: &Metadata) -> Result<(), DiskError> {
    let pickle = to_pickle(metadata);
    let checksum = crate::core::hex::hex(&Md5::digest(&pickle));
    for (i, piece) in pickle.chunks(PIECE_SIZE).enumerate() {
        file.set_xattr(piece_key(i), piece)
            .map_err(|e| xattr_error("writing metadata to", path, e))?;
    }
    file.set_xattr(CHECKSUM_KEY, checksum.as_bytes())
        .map_err(|e| xattr_error("writing the metadata checksum to", path, e))
}

fn piece_key(i: usize) -> String {
    if i == 0 {
        METADATA_KEY.to_string()
    } else {
        format!("{METADATA_KEY}{i}")
    }
}

fn xattr_error(context: &str, path: &Path, e: io::Error) -> DiskError {
    match e.raw_os_error() {
        Some(libc::ENOSPC | libc::EDQUOT | libc::E2BIG) => DiskError::NoSpace {
            path: path.to_path_buf(),
            source: e,
        },
        Some(libc::ENOTSUP) => DiskError::XattrNotSupported {
            path: path.to_path_buf(),
        },
        Some(libc::ENOENT) => DiskError::StateChanged {
            path: path.to_path_buf(),
        },
        _ => DiskError::io(context, path, e),
    }
}

/// The raw pickle and its stored checksum (None: none stored, as on files
/// older than Swift 2.13).
pub fn read_raw(file: &File, path: &Path) -> Result<(Vec<u8>, Option<Vec<u8>>), DiskError> {
    let mut pickle = Vec::new();
    for i in 0.. {
        match file.get_xattr(piece_key(i)) {
            Ok(Some(piece)) => pickle.extend_from_slice(&piece),
            Ok(None) => break,
            Err(e) => match xattr_error("reading metadata of", path, e) {
                e @ (DiskError::XattrNotSupported { .. } | DiskError::StateChanged { .. }) => {
                    return Err(e)
                }
                // Swift stops at any other error too (ENODATA, ERANGE...).
                _ => break,
            },
        }
    }
    let checksum = file.get_xattr(CHECKSUM_KEY).unwrap_or(None);
    Ok((pickle, checksum))
}

/// Reads the metadata of an open object file (Swift's `read_metadata`).
/// `BadMetadata` for what Swift quarantines: a checksum that does not
/// match, a pickle it cannot read.
pub fn read(file: &File, path: &Path) -> Result<Metadata, DiskError> {
    let (pickle, checksum) = read_raw(file, path)?;
    if let Some(stored) = checksum.filter(|c| !c.is_empty()) {
        let computed = crate::core::hex::hex(&Md5::digest(&pickle));
        if stored != computed.as_bytes() {
            return Err(DiskError::BadMetadata {
                path: path.to_path_buf(),
                detail: format!(
                    "metadata checksum mismatch: stored {:?}, computed {computed}",
                    String::from_utf8_lossy(&stored)
                ),
            });
        }
    }
    from_pickle(&pickle).map_err(|detail| DiskError::BadMetadata {
        path: path.to_path_buf(),
        detail,
    })
}

/// `read` of a file by its path; a file gone is `StateChanged`.
pub fn read_path(path: &Path) -> Result<Metadata, DiskError> {
    let file = File::open(path).map_err(|e| match e.kind() {
        io::ErrorKind::NotFound => DiskError::StateChanged {
            path: path.to_path_buf(),
        },
        _ => DiskError::io("opening", path, e),
    })?;
    read(&file, path)
}

/// A header value as Swift's object server holds it (a WSGI string: each
/// byte one code point).
pub fn native_from_header(value: &[u8]) -> String {
    value.iter().map(|&b| b as char).collect()
}

/// The header bytes of a value `native_from_header` made; None for a
/// string with a code point above U+00FF (not a WSGI string).
pub fn header_from_native(value: &str) -> Option<Vec<u8>> {
    value
        .chars()
        .map(|c| u8::try_from(u32::from(c)).ok())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Metadata {
        [
            ("name", "/AUTH_a/c/oé"),
            ("X-Timestamp", "1700000000.12345"),
            ("Content-Length", "5"),
            ("ETag", "5d41402abc4b2a76b9719d911017c592"),
            ("Content-Type", "text/plain"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .chain([(
            "X-Object-Meta-Color".to_string(),
            native_from_header("bl\u{e9}".as_bytes()),
        )])
        .collect()
    }

    #[test]
    fn pickles_as_python3_swift_does() {
        let pickle = to_pickle(&sample());
        assert_eq!(&pickle[..2], b"\x80\x02", "protocol 2");
        // Swift tells a py3 pickle by this within its first 32 bytes.
        let head = &pickle[..32];
        assert!(
            head.windows(14).any(|w| w == b"_codecs\nencode"),
            "{head:?}"
        );
        assert_eq!(from_pickle(&pickle), Ok(sample()));
        // What Swift 2.38 itself wrote for the sample (DiskFileWriter.put
        // with these keys, the value of X-Object-Meta-Color the WSGI string
        // of "blé"): Python's memo opcodes, insertion order.
        let swift: &[u8] = b"\x80\x02}q\x00(c_codecs\nencode\nq\x01X\x0b\x00\x00\x00X-Timestampq\x02X\x06\x00\x00\x00latin1q\x03\x86q\x04Rq\x05h\x01X\x10\x00\x00\x001700000000.12345q\x06h\x03\x86q\x07Rq\x08h\x01X\x0e\x00\x00\x00Content-Lengthq\th\x03\x86q\nRq\x0bh\x01X\x01\x00\x00\x005q\x0ch\x03\x86q\rRq\x0eh\x01X\x04\x00\x00\x00ETagq\x0fh\x03\x86q\x10Rq\x11h\x01X \x00\x00\x005d41402abc4b2a76b9719d911017c592q\x12h\x03\x86q\x13Rq\x14h\x01X\x0c\x00\x00\x00Content-Typeq\x15h\x03\x86q\x16Rq\x17h\x01X\n\x00\x00\x00text/plainq\x18h\x03\x86q\x19Rq\x1ah\x01X\x13\x00\x00\x00X-Object-Meta-Colorq\x1bh\x03\x86q\x1cRq\x1dh\x01X\n\x00\x00\x00bl\xc3\x83\xc2\x83\xc3\x82\xc2\xa9q\x1eh\x03\x86q\x1fRq h\x01X\x04\x00\x00\x00nameq!h\x03\x86q\"Rq#h\x01X\x0f\x00\x00\x00/AUTH_a/c/o\xc3\x83\xc2\xa9q$h\x03\x86q%Rq&u.";
        assert_eq!(from_pickle(swift), Ok(sample()));
        assert_eq!(
            header_from_native(&sample()["X-Object-Meta-Color"]).as_deref(),
            Some("blé".as_bytes())
        );
        assert_eq!(header_from_native("é€"), None);
    }

    #[test]
    fn reads_python2_pickles_as_swift_does() {
        // Python 2's pickle.dumps({'name': '/a/c/\xc3\xa9', 'X-Object-Meta-M':
        // '\xc3\xa9', 'Content-Length': u'5'}, 2): str as SHORT_BINSTRING,
        // unicode as BINUNICODE, no _codecs.encode.
        let py2: &[u8] = b"\x80\x02}q\x01(U\x04nameq\x02U\x07/a/c/\xc3\xa9q\x03U\x0fX-Object-Meta-Mq\x04U\x02\xc3\xa9q\x05U\x0eContent-Lengthq\x06X\x01\x00\x00\x005u.";
        let md = from_pickle(py2).expect("readable");
        assert_eq!(md["name"], "/a/c/é", "the name is UTF-8");
        assert_eq!(
            md["X-Object-Meta-M"], "\u{c3}\u{a9}",
            "other byte strings are Latin-1"
        );
        assert_eq!(md["Content-Length"], "5");
    }

    #[test]
    fn reads_a_pickled_header_key_dict_as_swift_does() {
        // Python (Swift 2.38): pickle.dumps(HeaderKeyDict({'name': '/a/c/o',
        // 'X-Timestamp': '1700000000.00000'}), 2); Swift's unpickler allows
        // the class, and HeaderKeyDict title-cases its keys.
        let hkd: &[u8] = b"\x80\x02cswift.common.header_key_dict\nHeaderKeyDict\nq\x00)\x81q\x01(X\x04\x00\x00\x00Nameq\x02X\x06\x00\x00\x00/a/c/oq\x03X\x0b\x00\x00\x00X-Timestampq\x04X\x10\x00\x00\x001700000000.00000q\x05u.";
        let md = from_pickle(hkd).expect("readable");
        assert_eq!(md["Name"], "/a/c/o");
        assert_eq!(md["X-Timestamp"], "1700000000.00000");
    }

    #[test]
    fn unreadable_pickles_are_errors() {
        for bad in [
            &b""[..],
            b"\x80\x02]q\x00.",
            b"garbage",
            b"\x80\x02cos\nsystem\nq\x00.",
        ] {
            assert!(from_pickle(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn metadata_goes_in_64k_pieces_with_a_checksum() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("f");
        let file = File::create(&path).expect("create");
        let mut md = sample();
        write(&file, &path, &md).expect("fits");
        assert_eq!(read(&file, &path).expect("readable"), md);
        let (pickle, checksum) = read_raw(&file, &path).expect("readable");
        assert_eq!(
            checksum,
            Some(crate::core::hex::hex(&Md5::digest(&pickle)).into_bytes())
        );
        assert_eq!(file.get_xattr("user.swift.metadata1").expect("xattr"), None);

        // The chunking itself, without a filesystem's size limit.
        md.insert("X-Object-Meta-Big".into(), "x".repeat(PIECE_SIZE + 10));
        let pickle = to_pickle(&md);
        let keys: Vec<String> = pickle
            .chunks(PIECE_SIZE)
            .enumerate()
            .map(|(i, _)| piece_key(i))
            .collect();
        assert_eq!(keys, ["user.swift.metadata", "user.swift.metadata1"]);
    }

    #[test]
    fn a_wrong_checksum_is_bad_metadata_and_none_is_fine() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("f");
        let file = File::create(&path).expect("create");
        write(&file, &path, &sample()).expect("fits");
        file.set_xattr(CHECKSUM_KEY, b"0123456789abcdef0123456789abcdef")
            .expect("xattr");
        let e = read(&file, &path).expect_err("mismatch");
        assert!(matches!(e, DiskError::BadMetadata { .. }), "{e}");
        file.remove_xattr(CHECKSUM_KEY).expect("xattr");
        assert_eq!(read(&file, &path).expect("no checksum is fine"), sample());
        // A damaged pickle is bad metadata too.
        file.set_xattr(METADATA_KEY, b"\x80\x02}q\x00(")
            .expect("xattr");
        assert!(matches!(
            read(&file, &path),
            Err(DiskError::BadMetadata { .. })
        ));
        // No metadata at all: an empty pickle, which Swift fails to read.
        let bare = dir.path().join("bare");
        File::create(&bare).expect("create");
        assert!(matches!(
            read_path(&bare),
            Err(DiskError::BadMetadata { .. })
        ));
        assert!(matches!(
            read_path(&dir.path().join("gone")),
            Err(DiskError::StateChanged { .. })
        ));
    }

    // /tmp is ext4 here (without ea_inode): about 4 KiB of extended
    // attributes fit per inode, so Swift's full metadata limits do not.
    #[test]
    fn metadata_that_does_not_fit_is_no_space() {
        let dir = tempfile::tempdir_in("/tmp").expect("tempdir");
        let path = dir.path().join("f");
        let file = File::create(&path).expect("create");
        let mut md = sample();
        for i in 0..90 {
            md.insert(format!("X-Object-Meta-{i:0>120}"), "v".repeat(200));
        }
        match write(&file, &path, &md) {
            Err(e @ DiskError::NoSpace { .. }) => assert!(e.is_insufficient_storage()),
            Ok(()) => panic!(
                "/tmp held {} bytes of extended attributes on one inode: this test needs \
                 /tmp on ext4 without ea_inode",
                to_pickle(&md).len()
            ),
            Err(e) => panic!("{e}"),
        }
    }
}
