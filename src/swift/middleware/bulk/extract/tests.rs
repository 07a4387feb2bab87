use super::*;

#[test]
fn archive_formats() {
    assert_eq!(Compression::from_param("tar"), Some(Compression::None));
    assert_eq!(Compression::from_param(".TAR.GZ."), Some(Compression::Gzip));
    assert_eq!(Compression::from_param("tar.bz2"), Some(Compression::Bzip2));
    assert_eq!(Compression::from_param("zip"), None);
    assert_eq!(Compression::from_param(""), None);
    assert_eq!(Compression::from_param("tgz"), None);
}

#[test]
fn member_names_map_as_swift_maps_them() {
    let p = |base: &str, name: &[u8]| object_path(base, name);
    // Account level: the first segment is the container; top-level files
    // are skipped.
    assert_eq!(p("", b"c/o.txt"), Some(b"c/o.txt".to_vec()));
    assert_eq!(p("", b"top"), None);
    assert_eq!(p("", b"./top"), None);
    // One leading "./" and every leading "/" go.
    assert_eq!(p("", b"./c/o"), Some(b"c/o".to_vec()));
    assert_eq!(p("", b"///c/o"), Some(b"c/o".to_vec()));
    assert_eq!(p("", b"././c/o"), Some(b"./c/o".to_vec()));
    // ".." is a name like any other: it stays inside the account.
    assert_eq!(p("", b"../c/o"), Some(b"../c/o".to_vec()));
    // Container and prefix levels put the base in front.
    assert_eq!(p("c", b"top"), Some(b"c/top".to_vec()));
    assert_eq!(p("c", b"/abs/x"), Some(b"c/abs/x".to_vec()));
    assert_eq!(p("c/pre", b"../x"), Some(b"c/pre/../x".to_vec()));
}

#[test]
fn pax_xattrs_become_headers() {
    assert_eq!(
        pax_header("SCHILY.xattr.user.mime_type").as_deref(),
        Some("Content-Type")
    );
    assert_eq!(
        pax_header("LIBARCHIVE.xattr.user.meta.color").as_deref(),
        Some("X-Object-Meta-color")
    );
    assert_eq!(pax_header("SCHILY.xattr.user.stuff"), None);
    assert_eq!(pax_header("mtime"), None);
    assert_eq!(pax_header("SCHILY.xattr.security.selinux"), None);
}

#[test]
fn failed_names_are_cut_then_quoted() {
    let long = vec![b'a'; MAX_PATH_LENGTH + 10];
    assert_eq!(failed_name(&long).len(), MAX_PATH_LENGTH);
    assert_eq!(failed_name(b"c/a b"), "c/a%20b");
}

#[test]
fn a_member_cut_short_fails_its_read() {
    let cut = Cell::new(false);
    let mut r = Exact {
        inner: &b"abc"[..],
        remaining: 5,
        cut: &cut,
    };
    let mut out = Vec::new();
    let err = r.read_to_end(&mut out).unwrap_err();
    assert_eq!(err.kind(), io::ErrorKind::UnexpectedEof);
    assert!(cut.get());
    assert_eq!(out, b"abc");
    let whole = Cell::new(false);
    let mut r = Exact {
        inner: &b"abcdef"[..],
        remaining: 3,
        cut: &whole,
    };
    let mut out = Vec::new();
    r.read_to_end(&mut out).unwrap();
    assert_eq!((out.as_slice(), whole.get()), (&b"abc"[..], false));
}

#[test]
fn a_cut_short_compressed_stream_is_an_end() {
    let stats = Rc::new(Stats::default());
    struct Eof;
    impl Read for Eof {
        fn read(&mut self, _: &mut [u8]) -> io::Result<usize> {
            Err(io::Error::new(io::ErrorKind::UnexpectedEof, "eof"))
        }
    }
    let mut w = Watch {
        inner: Eof,
        stats: Rc::clone(&stats),
    };
    assert_eq!(w.read(&mut [0; 4]).unwrap(), 0);
    assert!(!stats.broken.get());
}
