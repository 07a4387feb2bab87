use super::*;

/// The one gate a line names.
fn one(args: &[&str]) -> (Kind, GateSettings) {
    let v = parse(args).unwrap();
    assert_eq!(v.len(), 1, "{args:?}");
    v[0]
}

#[test]
fn parses_good_lines() {
    let (k, s) = one(&["object-write", "limit=8", "queue=64", "wait=500ms"]);
    assert_eq!(k, Kind::ObjectWrite);
    assert_eq!(s.limit, Some(8));
    assert_eq!(s.queue, 64);
    assert_eq!(s.wait, Duration::from_millis(500));
    assert_eq!(one(&["object-read", "limit=10"]).1.queue, 160);
    assert_eq!(one(&["object-read", "limit=512"]).1.queue, 512);
    let (k, s) = one(&["Container", "wait=3"]);
    assert_eq!(k, Kind::Container);
    assert_eq!(s.wait, Duration::from_secs(3));
    assert_eq!(s.limit, default_for(Kind::Container).limit);
    let (_, s) = one(&["account", "off"]);
    assert_eq!(s.limit, None);
    assert_eq!(one(&["object-write", "queue=0"]).1.queue, 0);
    let (k, s) = one(&["OBJECT-READ", "off"]);
    assert_eq!((k, s.limit), (Kind::ObjectRead, None));
}

#[test]
fn yield_is_on_by_default_for_writes_only_and_can_be_set() {
    assert_eq!(
        default_for(Kind::ObjectWrite).yield_at,
        Some(DEFAULT_YIELD_AT)
    );
    for k in [Kind::ObjectRead, Kind::Container, Kind::Account] {
        assert_eq!(default_for(k).yield_at, None);
    }
    let s = |args: &[&str]| one(args).1.yield_at;
    assert_eq!(s(&["object-write", "yield=off"]), None);
    assert_eq!(s(&["object-write", "yield=2"]), Some(Crowding(2000)));
    assert_eq!(
        s(&["object-write", "limit=8", "yield=0.75"]),
        Some(Crowding(750))
    );
    assert_eq!(s(&["object-write", "yield=64"]), Some(Crowding(64_000)));
    assert_eq!(
        s(&["object-write", "limit=8"]),
        Some(DEFAULT_YIELD_AT),
        "other keys keep the default"
    );
    // On an `object` line, yield is the write gate's.
    let v = parse(&["object", "limit=4", "yield=off"]).unwrap();
    assert_eq!(
        v[0],
        (Kind::ObjectRead, {
            let mut r = default_for(Kind::ObjectRead);
            r.limit = Some(4);
            r.queue = 64;
            r
        })
    );
    assert_eq!((v[1].0, v[1].1.yield_at), (Kind::ObjectWrite, None));
}

#[test]
fn database_gates_are_per_database_unless_scoped_to_the_vhost() {
    for k in [Kind::Container, Kind::Account] {
        assert!(default_for(k).per_db);
    }
    for k in [Kind::ObjectRead, Kind::ObjectWrite] {
        assert!(!default_for(k).per_db);
    }
    let (_, s) = one(&["container", "scope=vhost", "limit=8"]);
    assert_eq!((s.per_db, s.limit), (false, Some(8)));
    assert!(one(&["account", "SCOPE=DB"]).1.per_db);
    assert!(
        one(&["container", "limit=2"]).1.per_db,
        "other keys keep it"
    );
    // A database's queue: a quarter of the table.
    assert_eq!(default_for(Kind::Container).queue, 255);
    assert_eq!(default_for(Kind::Account).queue, 254);
    assert_eq!(one(&["container", "limit=16"]).1.queue, 252);
    assert_eq!(one(&["container", "scope=vhost"]).1.queue, 255);
}

#[test]
fn object_sets_both_object_gates_from_their_own_defaults() {
    let v = parse(&["object", "limit=12", "wait=2s"]).unwrap();
    let kinds: Vec<Kind> = v.iter().map(|p| p.0).collect();
    assert_eq!(kinds, [Kind::ObjectRead, Kind::ObjectWrite]);
    for (_, s) in &v {
        assert_eq!((s.limit, s.queue), (Some(12), 192));
        assert_eq!(s.wait, Duration::from_secs(2));
    }
    // Keys left out keep each gate's own default.
    for (k, s) in parse(&["object", "wait=1s"]).unwrap() {
        assert_eq!(s.limit, default_for(k).limit);
        assert_eq!(s.queue, default_for(k).queue);
    }
    assert!(parse(&["object", "off"])
        .unwrap()
        .iter()
        .all(|p| p.1.limit.is_none()));
}

#[test]
fn rejects_bad_lines_naming_the_value() {
    for (args, needle) in [
        (&["disk", "limit=1"][..], "disk"),
        (&["object"][..], "nothing to set"),
        (&["object", "limit=0"][..], "limit=0"),
        (&["object", "limit=513"][..], "limit=513"),
        (&["object", "limit=x"][..], "limit=x"),
        (&["object", "queue=-1"][..], "queue=-1"),
        (&["object", "queue=1024"][..], "queue=1024"),
        (&["object", "wait=0s"][..], "wait=0s"),
        (&["object", "wait=301s"][..], "wait=301s"),
        (&["object", "wait=fast"][..], "wait=fast"),
        (&["object", "speed=9"][..], "speed"),
        (&["object", "limit"][..], "key=value"),
        (&["object", "limit=512", "queue=600"][..], "exceed"),
        (&["object-writes", "limit=1"][..], "unknown gate"),
        (&["object-write", "yield=0.4"][..], "yield=0.4"),
        (&["object-write", "yield=65"][..], "from 0.5 to 64"),
        (&["object-write", "yield=NaN"][..], "yield=NaN"),
        (&["object-write", "yield=inf"][..], "yield=inf"),
        (&["object-write", "yield=250us"][..], "no longer a duration"),
        (&["object-write", "yield=soon"][..], "yield=soon"),
        (&["object-read", "yield=2"][..], "object-write gate only"),
        (
            &["object", "scope=db"][..],
            "container and account gates only",
        ),
        (
            &["object-write", "scope=vhost"][..],
            "container and account gates only",
        ),
        (&["container", "scope=node"][..], "scope=node"),
        (&["container", "yield=off"][..], "object-write gate only"),
        (&[][..], "StowageGate takes"),
    ] {
        let e = parse(args).unwrap_err();
        assert!(e.contains(needle), "{args:?}: {e}");
        assert!(e.starts_with("StowageGate"), "{e}");
    }
}
