use super::*;

fn parse(body: &[u8]) -> Result<Vec<Vec<u8>>, Refusal> {
    parse_list(&mut &body[..], MAX_DELETES_PER_REQUEST)
}

#[test]
fn lines_are_stripped_and_percent_decoded() {
    let got = parse(b"/c/a%20b\n  c2 \r\nc/%E2%98%83\nc/%zz\nlast").unwrap();
    let want: Vec<Vec<u8>> = vec![
        b"/c/a b".to_vec(),
        b"c2".to_vec(),
        "c/\u{2603}".as_bytes().to_vec(),
        b"c/%zz".to_vec(),
        b"last".to_vec(),
    ];
    assert_eq!(got, want);
}

#[test]
fn blank_lines_are_kept_as_empty_names_but_a_blank_tail_is_not() {
    // Swift keeps empty names from the middle (they are skipped later) and
    // drops an empty last line.
    assert_eq!(parse(b"\n \n").unwrap(), vec![Vec::<u8>::new(), Vec::new()]);
    assert_eq!(parse(b"").unwrap(), Vec::<Vec<u8>>::new());
}

#[test]
fn too_many_names_is_413() {
    let body: Vec<u8> = (0..4)
        .flat_map(|i| format!("c/o{i}\n").into_bytes())
        .collect();
    assert_eq!(parse_list(&mut &body[..], 4).unwrap().len(), 4);
    let body: Vec<u8> = (0..5)
        .flat_map(|i| format!("c/o{i}\n").into_bytes())
        .collect();
    assert_eq!(
        parse_list(&mut &body[..], 4),
        Err(Refusal {
            status: 413,
            body: "Maximum Bulk Deletes: 4 per request".into()
        })
    );
}

#[test]
fn a_line_past_twice_the_longest_path_is_400() {
    let ok = vec![b'a'; MAX_PATH_LENGTH * 2];
    assert_eq!(parse(&ok).unwrap().len(), 1);
    let long = vec![b'a'; MAX_PATH_LENGTH * 2 + 1];
    assert_eq!(
        parse(&long),
        Err(Refusal {
            status: 400,
            body: "Invalid File Name".into()
        })
    );
}

#[test]
fn objects_and_containers() {
    assert!(is_object(b"c/o"));
    assert!(is_object(b"/c/o/"));
    assert!(!is_object(b"/c/"));
    assert!(!is_object(b"c"));
    assert!(!is_object(b"///"));
}

#[test]
fn delete_paths() {
    assert_eq!(
        delete_path("AUTH_a", b"//c/o").unwrap(),
        b"/v1/AUTH_a/c/o".to_vec()
    );
    assert_eq!(
        delete_path("AUTH_a", b"c/").unwrap(),
        b"/v1/AUTH_a/c/".to_vec()
    );
    assert_eq!(delete_path("AUTH_a", b"c/a\0b"), None);
    assert_eq!(delete_path("AUTH_a", b"c/\xff"), None);
}

#[test]
fn arbitrary_lists_never_panic() {
    let mut seed: u64 = 0x2545_f491_4f6c_dd1d;
    for _ in 0..200 {
        let len = (seed % 6000) as usize;
        let body: Vec<u8> = (0..len)
            .map(|_| {
                seed ^= seed << 13;
                seed ^= seed >> 7;
                seed ^= seed << 17;
                b"ab/%\n\r 0F\xff\x00"[(seed % 11) as usize]
            })
            .collect();
        if let Ok(names) = parse(&body) {
            for n in &names {
                let _ = (is_object(n), delete_path("AUTH_a", n));
            }
        }
    }
}
