//! Helpers shared by the fuzz targets: independent checkers for what the
//! library writes, so a target can assert properties, not just "no panic".

pub mod xml;

/// Every byte as `%XX`: decoding this must give back `s` exactly.
pub fn percent_encode_all(s: &str) -> String {
    s.bytes().map(|b| format!("%{b:02X}")).collect()
}
