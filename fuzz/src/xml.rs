//! A tiny strict reader for the XML the listing encoder writes. It accepts
//! only what the encoder means to produce: the fixed prolog, one root
//! element, double-quoted attributes, the five references it uses
//! (`&amp; &lt; &gt; &quot; &#N;`), and no raw `<`, `&`, `>` or control
//! characters in text or attributes (raw `\n` and `\t` only in text, where a
//! parser keeps them). Anything else is an error naming the offset.

pub const PROLOG: &str = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n";

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Node {
    Element(Element),
    Text(String),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Element {
    pub name: String,
    pub attrs: Vec<(String, String)>,
    pub children: Vec<Node>,
}

impl Element {
    pub fn attr(&self, name: &str) -> Option<&str> {
        self.attrs
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    /// The child elements, skipping text nodes.
    pub fn elements(&self) -> impl Iterator<Item = &Element> {
        self.children.iter().filter_map(|c| match c {
            Node::Element(e) => Some(e),
            Node::Text(_) => None,
        })
    }

    /// All text directly inside (for a leaf: its value; "" when empty).
    pub fn text(&self) -> String {
        self.children
            .iter()
            .filter_map(|c| match c {
                Node::Text(t) => Some(t.as_str()),
                Node::Element(_) => None,
            })
            .collect()
    }
}

/// What an XML listing can carry of `s`: characters XML 1.0 cannot hold
/// (C0 controls but tab, LF and CR; surrogates; U+FFFE, U+FFFF) read back
/// as U+FFFD, the encoder's documented choice (docs/security.md, hostile input).
pub fn lossy(s: &str) -> String {
    s.chars()
        .map(|c| match c {
            '\t' | '\n' | '\r' => c,
            '\u{0}'..='\u{1f}' | '\u{fffe}' | '\u{ffff}' => '\u{fffd}',
            c => c,
        })
        .collect()
}

pub fn parse(doc: &str) -> Result<Element, String> {
    let body = doc
        .strip_prefix(PROLOG)
        .ok_or("missing or different XML prolog")?;
    let mut r = Reader { s: body, pos: 0 };
    let root = r.element()?;
    if r.pos != body.len() {
        return Err(r.fail("content after the root element"));
    }
    Ok(root)
}

struct Reader<'a> {
    s: &'a str,
    pos: usize,
}

impl Reader<'_> {
    fn fail(&self, what: &str) -> String {
        format!("{what} at byte {}", self.pos + PROLOG.len())
    }

    fn rest(&self) -> &str {
        &self.s[self.pos..]
    }

    fn eat(&mut self, lit: &str) -> bool {
        let ok = self.rest().starts_with(lit);
        if ok {
            self.pos += lit.len();
        }
        ok
    }

    fn expect(&mut self, lit: &str) -> Result<(), String> {
        if self.eat(lit) {
            Ok(())
        } else {
            Err(self.fail(&format!("expected {lit:?}")))
        }
    }

    fn name(&mut self) -> Result<String, String> {
        let len = self
            .rest()
            .bytes()
            .take_while(|b| b.is_ascii_alphanumeric() || *b == b'_')
            .count();
        if len == 0 || self.rest().as_bytes()[0].is_ascii_digit() {
            return Err(self.fail("expected a name"));
        }
        let name = self.rest()[..len].to_string();
        self.pos += len;
        Ok(name)
    }

    fn element(&mut self) -> Result<Element, String> {
        self.expect("<")?;
        let name = self.name()?;
        let mut attrs = Vec::new();
        loop {
            if self.eat(" />") {
                return Ok(Element {
                    name,
                    attrs,
                    children: Vec::new(),
                });
            }
            if self.eat(">") {
                break;
            }
            self.expect(" ")?;
            let attr = self.name()?;
            if attrs.iter().any(|(n, _)| *n == attr) {
                return Err(self.fail("duplicate attribute"));
            }
            self.expect("=\"")?;
            let value = self.chars(true)?;
            self.expect("\"")?;
            attrs.push((attr, value));
        }
        let mut children = Vec::new();
        loop {
            if self.eat("</") {
                let close = self.name()?;
                if close != name {
                    return Err(self.fail(&format!("</{close}> closes <{name}>")));
                }
                self.expect(">")?;
                return Ok(Element {
                    name,
                    attrs,
                    children,
                });
            }
            if self.rest().starts_with('<') {
                children.push(Node::Element(self.element()?));
            } else if self.rest().is_empty() {
                return Err(self.fail(&format!("<{name}> never closed")));
            } else {
                children.push(Node::Text(self.chars(false)?));
            }
        }
    }

    /// Character data up to the next `<` (text) or `"` (attribute value),
    /// decoded.
    fn chars(&mut self, attr: bool) -> Result<String, String> {
        let mut out = String::new();
        while let Some(c) = self.rest().chars().next() {
            match c {
                '<' => break,
                '"' if attr => break,
                '&' => out.push(self.reference()?),
                '>' => return Err(self.fail("raw '>'")),
                '\n' | '\t' if !attr => {
                    out.push(c);
                    self.pos += 1;
                }
                c if c.is_control() => return Err(self.fail(&format!("raw control {c:?}"))),
                c => {
                    out.push(c);
                    self.pos += c.len_utf8();
                }
            }
        }
        Ok(out)
    }

    fn reference(&mut self) -> Result<char, String> {
        for (lit, c) in [
            ("&amp;", '&'),
            ("&lt;", '<'),
            ("&gt;", '>'),
            ("&quot;", '"'),
        ] {
            if self.eat(lit) {
                return Ok(c);
            }
        }
        if !self.eat("&#") {
            return Err(self.fail("unknown reference"));
        }
        let digits = self.rest().bytes().take_while(u8::is_ascii_digit).count();
        let code = self.rest()[..digits]
            .parse::<u32>()
            .ok()
            .and_then(char::from_u32)
            .ok_or_else(|| self.fail("bad character reference"))?;
        self.pos += digits;
        self.expect(";")?;
        Ok(code)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_what_the_encoder_writes() {
        let doc = format!("{PROLOG}<a name=\"x&quot;&#10;'\"><b>1&amp;&#13;\n</b><c /></a>");
        let root = parse(&doc).unwrap();
        assert_eq!(root.attr("name"), Some("x\"\n'"));
        let kids: Vec<_> = root.elements().collect();
        assert_eq!(kids[0].text(), "1&\r\n");
        assert_eq!(kids[1].name, "c");
    }

    #[test]
    fn rejects_what_it_must_not_write() {
        for bad in [
            "<a>x<y</a>",
            "<a>&</a>",
            "<a>></a>",
            "<a>\r</a>",
            "<a>\u{1}</a>",
            "<a b=\"\n\"></a>",
            "<a></b>",
            "<a>",
            "<a />x",
            "<a>&#55296;</a>",
        ] {
            assert!(parse(&format!("{PROLOG}{bad}")).is_err(), "{bad:?}");
        }
    }
}
