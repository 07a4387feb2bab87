//! Swift's spelling of header names. Swift keeps response headers in a
//! `HeaderKeyDict`, which title-cases every name with Python's `str.title()`:
//! a letter is upper-cased when it follows a character that is not a letter
//! (or starts the name), every other letter is lower-cased. So
//! "x-object-meta-a1b" goes out as "X-Object-Meta-A1B" and "ETag" as "Etag".
//! Header names are ASCII tokens; other bytes are left as they are.

/// `name` as Python's `str.title()` spells it.
pub fn title_case(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    let mut after_letter = false;
    for c in name.chars() {
        if c.is_ascii_alphabetic() {
            out.push(if after_letter {
                c.to_ascii_lowercase()
            } else {
                c.to_ascii_uppercase()
            });
            after_letter = true;
        } else {
            out.push(c);
            after_letter = false;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::title_case;

    #[test]
    fn spelled_as_pythons_title() {
        assert_eq!(
            title_case("X-Account-Storage-Policy-gold-Container-Count"),
            "X-Account-Storage-Policy-Gold-Container-Count"
        );
        assert_eq!(title_case("x-a-ec42x-B"), "X-A-Ec42X-B");
        assert_eq!(title_case("Policy-0"), "Policy-0");
        for (name, want) in [
            ("etag", "Etag"),
            ("ETag", "Etag"),
            ("x-object-meta-a1b", "X-Object-Meta-A1B"),
            ("X-OBJECT-META-COLOR", "X-Object-Meta-Color"),
            ("x-openstack-request-id", "X-Openstack-Request-Id"),
            ("WWW-Authenticate", "Www-Authenticate"),
            ("x-container-meta-foo_bar", "X-Container-Meta-Foo_Bar"),
            ("x-object-meta-2x", "X-Object-Meta-2X"),
            ("content-md5", "Content-Md5"),
            ("", ""),
        ] {
            assert_eq!(title_case(name), want, "{name}");
        }
    }
}
