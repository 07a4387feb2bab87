//! The Content-Type of an object PUT without one (or with
//! `X-Detect-Content-Type: true`), guessed from its name as Swift's proxy
//! guesses it: Python's `mimetypes.guess_type(path)[0]` (strict), else
//! `application/octet-stream`. Python starts from its built-in table
//! (3.11's, the Python Swift 2.38 runs on in Debian 12) and lets the
//! platform's mime.types files override it, read in its order; on Debian
//! that is `/etc/mime.types` of the `media-types` package. The files are
//! read once per process, when the first guess is made.
//!
//! Python's rules, kept here: the extension is the last `.suffix` of the
//! last path segment (a segment's leading dots are no extension); `.tgz`,
//! `.svgz` and the like stand for `.tar.gz`, `.svg.gz` (looked up without
//! case); an encoding suffix (`.gz`, `.Z`, `.bz2`, `.xz`, `.br`, with case)
//! is dropped and the suffix before it decides (`x.tar.gz` is
//! `application/x-tar`, `x.gz` has no type); the type is looked up by the
//! lower-cased extension.

use std::collections::HashMap;
use std::sync::OnceLock;

/// The type of a name whose extension names none.
pub const DEFAULT_TYPE: &str = "application/octet-stream";

/// Python's `mimetypes.knownfiles`, in its order: a later file overrides
/// an earlier one, extension by extension.
const KNOWN_FILES: &[&str] = &[
    "/etc/mime.types",
    "/etc/httpd/mime.types",
    "/etc/httpd/conf/mime.types",
    "/etc/apache/mime.types",
    "/etc/apache2/mime.types",
    "/usr/local/etc/httpd/conf/mime.types",
    "/usr/local/lib/netscape/mime.types",
    "/usr/local/etc/httpd/conf/mime.types",
    "/usr/local/etc/mime.types",
];

/// Python's `suffix_map`: a suffix that stands for two.
const SUFFIXES: &[(&str, &str)] = &[
    (".svgz", ".svg.gz"),
    (".tgz", ".tar.gz"),
    (".taz", ".tar.gz"),
    (".tz", ".tar.gz"),
    (".tbz2", ".tar.bz2"),
    (".txz", ".tar.xz"),
];

/// Python's `encodings_map` keys (compared with case).
const ENCODINGS: &[&str] = &[".gz", ".Z", ".bz2", ".xz", ".br"];

/// Python 3.11's built-in strict table (`mimetypes._types_map_default`).
const PYTHON_TYPES: &[(&str, &str)] = &[
    (".js", "application/javascript"),
    (".mjs", "application/javascript"),
    (".json", "application/json"),
    (".webmanifest", "application/manifest+json"),
    (".doc", "application/msword"),
    (".dot", "application/msword"),
    (".wiz", "application/msword"),
    (".nq", "application/n-quads"),
    (".nt", "application/n-triples"),
    (".bin", "application/octet-stream"),
    (".a", "application/octet-stream"),
    (".dll", "application/octet-stream"),
    (".exe", "application/octet-stream"),
    (".o", "application/octet-stream"),
    (".obj", "application/octet-stream"),
    (".so", "application/octet-stream"),
    (".oda", "application/oda"),
    (".pdf", "application/pdf"),
    (".p7c", "application/pkcs7-mime"),
    (".ps", "application/postscript"),
    (".ai", "application/postscript"),
    (".eps", "application/postscript"),
    (".trig", "application/trig"),
    (".m3u", "application/vnd.apple.mpegurl"),
    (".m3u8", "application/vnd.apple.mpegurl"),
    (".xls", "application/vnd.ms-excel"),
    (".xlb", "application/vnd.ms-excel"),
    (".ppt", "application/vnd.ms-powerpoint"),
    (".pot", "application/vnd.ms-powerpoint"),
    (".ppa", "application/vnd.ms-powerpoint"),
    (".pps", "application/vnd.ms-powerpoint"),
    (".pwz", "application/vnd.ms-powerpoint"),
    (".wasm", "application/wasm"),
    (".bcpio", "application/x-bcpio"),
    (".cpio", "application/x-cpio"),
    (".csh", "application/x-csh"),
    (".dvi", "application/x-dvi"),
    (".gtar", "application/x-gtar"),
    (".hdf", "application/x-hdf"),
    (".h5", "application/x-hdf5"),
    (".latex", "application/x-latex"),
    (".mif", "application/x-mif"),
    (".cdf", "application/x-netcdf"),
    (".nc", "application/x-netcdf"),
    (".p12", "application/x-pkcs12"),
    (".pfx", "application/x-pkcs12"),
    (".ram", "application/x-pn-realaudio"),
    (".pyc", "application/x-python-code"),
    (".pyo", "application/x-python-code"),
    (".sh", "application/x-sh"),
    (".shar", "application/x-shar"),
    (".swf", "application/x-shockwave-flash"),
    (".sv4cpio", "application/x-sv4cpio"),
    (".sv4crc", "application/x-sv4crc"),
    (".tar", "application/x-tar"),
    (".tcl", "application/x-tcl"),
    (".tex", "application/x-tex"),
    (".texi", "application/x-texinfo"),
    (".texinfo", "application/x-texinfo"),
    (".roff", "application/x-troff"),
    (".t", "application/x-troff"),
    (".tr", "application/x-troff"),
    (".man", "application/x-troff-man"),
    (".me", "application/x-troff-me"),
    (".ms", "application/x-troff-ms"),
    (".ustar", "application/x-ustar"),
    (".src", "application/x-wais-source"),
    (".xsl", "application/xml"),
    (".rdf", "application/xml"),
    (".wsdl", "application/xml"),
    (".xpdl", "application/xml"),
    (".zip", "application/zip"),
    (".3gp", "audio/3gpp"),
    (".3gpp", "audio/3gpp"),
    (".3g2", "audio/3gpp2"),
    (".3gpp2", "audio/3gpp2"),
    (".aac", "audio/aac"),
    (".adts", "audio/aac"),
    (".loas", "audio/aac"),
    (".ass", "audio/aac"),
    (".au", "audio/basic"),
    (".snd", "audio/basic"),
    (".mp3", "audio/mpeg"),
    (".mp2", "audio/mpeg"),
    (".opus", "audio/opus"),
    (".aif", "audio/x-aiff"),
    (".aifc", "audio/x-aiff"),
    (".aiff", "audio/x-aiff"),
    (".ra", "audio/x-pn-realaudio"),
    (".wav", "audio/x-wav"),
    (".avif", "image/avif"),
    (".bmp", "image/bmp"),
    (".gif", "image/gif"),
    (".ief", "image/ief"),
    (".jpg", "image/jpeg"),
    (".jpe", "image/jpeg"),
    (".jpeg", "image/jpeg"),
    (".heic", "image/heic"),
    (".heif", "image/heif"),
    (".png", "image/png"),
    (".svg", "image/svg+xml"),
    (".tiff", "image/tiff"),
    (".tif", "image/tiff"),
    (".ico", "image/vnd.microsoft.icon"),
    (".ras", "image/x-cmu-raster"),
    (".pnm", "image/x-portable-anymap"),
    (".pbm", "image/x-portable-bitmap"),
    (".pgm", "image/x-portable-graymap"),
    (".ppm", "image/x-portable-pixmap"),
    (".rgb", "image/x-rgb"),
    (".xbm", "image/x-xbitmap"),
    (".xpm", "image/x-xpixmap"),
    (".xwd", "image/x-xwindowdump"),
    (".eml", "message/rfc822"),
    (".mht", "message/rfc822"),
    (".mhtml", "message/rfc822"),
    (".nws", "message/rfc822"),
    (".css", "text/css"),
    (".csv", "text/csv"),
    (".html", "text/html"),
    (".htm", "text/html"),
    (".n3", "text/n3"),
    (".txt", "text/plain"),
    (".bat", "text/plain"),
    (".c", "text/plain"),
    (".h", "text/plain"),
    (".ksh", "text/plain"),
    (".pl", "text/plain"),
    (".srt", "text/plain"),
    (".rtx", "text/richtext"),
    (".tsv", "text/tab-separated-values"),
    (".vtt", "text/vtt"),
    (".py", "text/x-python"),
    (".etx", "text/x-setext"),
    (".sgm", "text/x-sgml"),
    (".sgml", "text/x-sgml"),
    (".vcf", "text/x-vcard"),
    (".xml", "text/xml"),
    (".mp4", "video/mp4"),
    (".mpeg", "video/mpeg"),
    (".m1v", "video/mpeg"),
    (".mpa", "video/mpeg"),
    (".mpe", "video/mpeg"),
    (".mpg", "video/mpeg"),
    (".mov", "video/quicktime"),
    (".qt", "video/quicktime"),
    (".webm", "video/webm"),
    (".avi", "video/x-msvideo"),
    (".movie", "video/x-sgi-movie"),
];

/// Extension (with its dot, as written) to type.
#[derive(Debug, Clone)]
pub struct Table {
    types: HashMap<String, String>,
}

impl Table {
    /// Python's built-in table, then each mime.types text in order.
    pub fn new<'a>(files: impl IntoIterator<Item = &'a str>) -> Table {
        let mut t = Table {
            types: PYTHON_TYPES
                .iter()
                .map(|(e, ty)| (e.to_string(), ty.to_string()))
                .collect(),
        };
        for text in files {
            t.add_file(text);
        }
        t
    }

    /// One mime.types text, read as Python reads it: per line, the words
    /// up to the first that starts with `#`; the first is the type, the
    /// others its extensions (without the dot).
    fn add_file(&mut self, text: &str) {
        for line in text.split(['\n', '\r']) {
            let mut words = line
                .split(is_python_space)
                .filter(|w| !w.is_empty())
                .take_while(|w| !w.starts_with('#'));
            let Some(ty) = words.next() else { continue };
            for ext in words {
                self.types.insert(format!(".{ext}"), ty.to_string());
            }
        }
    }

    /// The type Python guesses for a path (None: no known type).
    pub fn guess(&self, path: &str) -> Option<&str> {
        let (mut base, mut ext) = splitext(path);
        while let Some((_, stands_for)) = SUFFIXES.iter().find(|(s, _)| ext.eq_ignore_ascii_case(s))
        {
            (base, ext) = splitext(&format!("{base}{stands_for}"));
        }
        if ENCODINGS.contains(&ext.as_str()) {
            ext = splitext(&base).1;
        }
        // Python lower-cases the WSGI (Latin-1) string: an extension with
        // other than ASCII never names a type of the table.
        if !ext.is_ascii() {
            return None;
        }
        self.types
            .get(&ext.to_ascii_lowercase())
            .map(String::as_str)
    }
}

/// Python's `str.split()` separators that can appear in a mime.types file.
fn is_python_space(c: char) -> bool {
    c.is_whitespace() || ('\x1c'..='\x1f').contains(&c)
}

/// Python's `posixpath.splitext`: the last `.suffix` of the last segment,
/// unless the segment's only dots lead it.
fn splitext(p: &str) -> (String, String) {
    let start = p.rfind('/').map_or(0, |i| i + 1);
    match p.rfind('.') {
        Some(dot) if dot >= start && !p[start..dot].bytes().all(|b| b == b'.') => {
            (p[..dot].to_string(), p[dot..].to_string())
        }
        _ => (p.to_string(), String::new()),
    }
}

/// The platform's table: Python's, overridden by the known files that
/// exist (unreadable ones are skipped).
fn system_table() -> Table {
    let texts: Vec<String> = KNOWN_FILES
        .iter()
        .filter_map(|f| std::fs::read(f).ok())
        .map(|b| String::from_utf8_lossy(&b).into_owned())
        .collect();
    Table::new(texts.iter().map(String::as_str))
}

/// The Content-Type Swift's proxy gives an object of this name.
pub fn guess(object: &str) -> &'static str {
    static TABLE: OnceLock<Table> = OnceLock::new();
    TABLE
        .get_or_init(system_table)
        .guess(&format!("/{object}"))
        .unwrap_or(DEFAULT_TYPE)
}

#[cfg(test)]
mod tests {
    use super::*;

    const DEBIAN: &str = "# comment line\n\
        application/gzip\t\t\t\t\tgz\n\
        application/json\t\t\t\t\tjson\n\
        text/javascript\t\t\t\t\tjs mjs # trailing comment words\n\
        text/markdown\t\t\t\t\tmd markdown\r\n\
        image/webp webp\n\
        application/xml xml xsd rng\n\
        text/x-only-type\n";

    fn guess(t: &Table, name: &str) -> Option<String> {
        t.guess(&format!("/v1/AUTH_a/c/{name}")).map(str::to_string)
    }

    #[test]
    fn python_rules_without_files() {
        let t = Table::new([]);
        let g = |n| guess(&t, n);
        assert_eq!(g("x.txt").as_deref(), Some("text/plain"));
        assert_eq!(g("x.TXT").as_deref(), Some("text/plain"));
        assert_eq!(g("dir/x.Tar").as_deref(), Some("application/x-tar"));
        // encodings are dropped; the suffix before them decides
        assert_eq!(g("x.tar.gz").as_deref(), Some("application/x-tar"));
        assert_eq!(g("x.tar.Z").as_deref(), Some("application/x-tar"));
        assert_eq!(g("x.tar.br").as_deref(), Some("application/x-tar"));
        assert_eq!(g("x.gz"), None);
        // suffixes that stand for two, without case
        assert_eq!(g("x.tgz").as_deref(), Some("application/x-tar"));
        assert_eq!(g("x.TGZ").as_deref(), Some("application/x-tar"));
        assert_eq!(g("x.txz").as_deref(), Some("application/x-tar"));
        assert_eq!(g("x.svgz").as_deref(), Some("image/svg+xml"));
        // encodings with case: ".GZ" is looked up as a type
        assert_eq!(g("x.tar.GZ"), None);
        // leading dots of a segment are no extension
        assert_eq!(g(".txt"), None);
        assert_eq!(g("..txt"), None);
        assert_eq!(g("a/.b.txt").as_deref(), Some("text/plain"));
        assert_eq!(g("x."), None);
        assert_eq!(g("x"), None);
        assert_eq!(g("a.txt/"), None);
        assert_eq!(g("a.txt/b"), None);
        assert_eq!(g("x.unknownext"), None);
        assert_eq!(g("x.caf\u{e9}"), None);
        assert_eq!(g("x.js").as_deref(), Some("application/javascript"));
    }

    #[test]
    fn files_override_in_order() {
        let t = Table::new([DEBIAN, "text/x-later md\n"]);
        let g = |n| guess(&t, n);
        assert_eq!(g("x.js").as_deref(), Some("text/javascript"));
        assert_eq!(g("x.mjs").as_deref(), Some("text/javascript"));
        assert_eq!(g("x.md").as_deref(), Some("text/x-later"));
        assert_eq!(g("x.markdown").as_deref(), Some("text/markdown"));
        assert_eq!(g("x.GZ").as_deref(), Some("application/gzip"));
        assert_eq!(g("x.tar.GZ").as_deref(), Some("application/gzip"));
        assert_eq!(g("x.tar.gz").as_deref(), Some("application/x-tar"));
        assert_eq!(g("x.xml").as_deref(), Some("application/xml"));
        assert_eq!(g("x.webp").as_deref(), Some("image/webp"));
        // words after a comment are not extensions
        assert_eq!(g("x.trailing"), None);
        assert_eq!(g("x.comment"), None);
        // untouched entries of Python's table stay
        assert_eq!(g("x.png").as_deref(), Some("image/png"));
    }

    #[test]
    fn splits_like_posixpath() {
        let s = splitext;
        assert_eq!(s("/c/a.b.c"), ("/c/a.b".into(), ".c".into()));
        assert_eq!(s("/c.d/e"), ("/c.d/e".into(), String::new()));
        assert_eq!(s("/c/...x"), ("/c/...x".into(), String::new()));
        assert_eq!(s("/c/..x.y"), ("/c/..x".into(), ".y".into()));
        assert_eq!(s("a.b"), ("a".into(), ".b".into()));
    }
}
