use super::*;

fn header(name: &str, kind: u8, size: u64) -> Vec<u8> {
    let mut h = tar::Header::new_gnu();
    h.set_path(name).unwrap();
    h.set_size(size);
    h.set_entry_type(tar::EntryType::new(kind));
    h.set_cksum();
    h.as_bytes().to_vec()
}

fn read_through(data: &[u8], piece: usize) -> (io::Result<Vec<u8>>, bool) {
    let refused = Rc::new(Cell::new(false));
    let mut g = TarGuard::new(data, Rc::clone(&refused));
    let mut out = Vec::new();
    let mut buf = vec![0; piece];
    let res = loop {
        match g.read(&mut buf) {
            Ok(0) => break Ok(out),
            Ok(n) => out.extend_from_slice(&buf[..n]),
            Err(e) => break Err(e),
        }
    };
    (res, refused.get())
}

/// A real archive (long names, pax records, files) goes through unchanged
/// whatever the read sizes.
#[test]
fn ordinary_archives_pass_unchanged() {
    let mut b = tar::Builder::new(Vec::new());
    for (name, data) in [
        ("c/".to_string() + &"x".repeat(300), &b"long name"[..]),
        ("c/small".to_string(), &b"abc"[..]),
        ("c/empty".to_string(), &b""[..]),
    ] {
        let mut h = tar::Header::new_gnu();
        h.set_size(data.len() as u64);
        b.append_data(&mut h, name, data).unwrap();
    }
    let mut h = tar::Header::new_ustar();
    h.set_size(4);
    b.append_pax_extensions([("SCHILY.xattr.user.meta.a", &b"1"[..])])
        .unwrap();
    b.append_data(&mut h, "c/pax", &b"paxd"[..]).unwrap();
    let archive = b.into_inner().unwrap();
    for piece in [1, 7, 512, 4096] {
        let (res, refused) = read_through(&archive, piece);
        assert_eq!(res.unwrap(), archive, "piece {piece}");
        assert!(!refused);
    }
}

#[test]
fn a_huge_long_name_header_is_refused() {
    let mut data = header("././@LongLink", b'L', 6 << 30);
    data.extend_from_slice(&[b'a'; 1024]);
    let (res, refused) = read_through(&data, 100);
    assert!(res.is_err());
    assert!(refused);
}

#[test]
fn a_huge_pax_header_after_a_file_is_refused() {
    let mut data = header("f", b'0', 5);
    data.extend_from_slice(b"hello");
    data.resize(1024, 0);
    data.extend(header("pax", b'x', MAX_EXTENSION + 1));
    let (res, refused) = read_through(&data, 333);
    assert!(res.is_err() && refused);
}

#[test]
fn a_huge_file_is_fine() {
    let mut data = header("bomb", b'0', 6 << 30);
    data.extend_from_slice(&[b'x'; 100]);
    let (res, refused) = read_through(&data, 64);
    assert_eq!(res.unwrap().len(), 612);
    assert!(!refused);
}

#[test]
fn pax_size_overrides_the_next_header() {
    // A pax header gives the next file 1024 bytes; the file's own header
    // says 0. The huge "L" hidden in that file's data is data, not a header.
    let record = b"13 size=1024\n";
    let mut data = header("pax", b'x', record.len() as u64);
    data.extend_from_slice(record);
    data.resize(1024, 0);
    data.extend(header("f", b'0', 0));
    data.extend(header("././@LongLink", b'L', 6 << 30));
    data.extend_from_slice(&[0; 512]);
    let (res, refused) = read_through(&data, 100);
    assert!(res.is_ok());
    assert!(!refused);
}

#[test]
fn size_fields() {
    assert_eq!(header_size(b"00000000017\0"), Some(15));
    assert_eq!(header_size(b"          \0\0"), Some(0));
    assert_eq!(
        header_size(b"\x80\0\0\0\0\0\0\x01\x80\0\0\0"),
        Some(6 << 30)
    );
    assert_eq!(header_size(b"garbage!!!!!"), None);
    assert_eq!(pax_size(b"13 size=1024\n"), Some(1024));
    assert_eq!(pax_size(b"9 path=a\n13 size=1024\n"), Some(1024));
    assert_eq!(pax_size(b"9 path=a\n"), None);
}

/// Arbitrary bytes, headers with arbitrary sizes (up to u64::MAX in
/// base-256) and arbitrary read sizes never panic.
#[test]
fn arbitrary_input_never_panics() {
    let mut seed: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut next = || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    for round in 0..300 {
        let mut data = Vec::new();
        for _ in 0..(next() % 6) {
            let mut h = header("n", b"0xLKg5"[(next() % 6) as usize], 0);
            if next() % 2 == 0 {
                h[124] = 0x80;
                for b in &mut h[125..136] {
                    *b = (next() & 0xff) as u8;
                }
            }
            data.extend(h);
            let extra = (next() % 1500) as usize;
            data.extend((0..extra).map(|_| (next() & 0xff) as u8));
        }
        if round % 3 == 0 {
            data = (0..(next() % 3000))
                .map(|_| (next() & 0xff) as u8)
                .collect();
        }
        let piece = 1 + (next() % 700) as usize;
        let _ = read_through(&data, piece);
    }
}
