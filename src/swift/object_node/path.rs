//! The object server's request path:
//! `/<device>/<partition>/<account>/<container>/<object>`, percent-decoded,
//! the object keeping any further slashes (Swift's `split_and_validate_path`
//! with `rest_with_last`, then `validate_device_partition`).

use crate::swift::names::decode_path;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObjectPath {
    pub device: String,
    pub partition: u32,
    pub account: String,
    pub container: String,
    pub object: String,
}

/// Why a path is refused: Swift's 400 (or 412 for bad UTF-8) and its body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PathRefusal {
    pub status: u16,
    pub body: String,
}

fn refuse(status: u16, body: impl Into<String>) -> PathRefusal {
    PathRefusal {
        status,
        body: body.into(),
    }
}

/// Parses a raw (still percent-encoded) request path.
pub fn parse(raw: &str) -> Result<ObjectPath, PathRefusal> {
    let decoded = decode_path(raw).map_err(|e| refuse(e.status, e.message))?;
    let Some(rest) = decoded.strip_prefix('/') else {
        return Err(refuse(400, format!("Invalid path: {decoded}")));
    };
    let mut parts = rest.splitn(5, '/');
    let mut next = || parts.next().filter(|p| !p.is_empty());
    let (Some(device), Some(partition), Some(account), Some(container), Some(object)) =
        (next(), next(), next(), next(), next())
    else {
        return Err(refuse(400, format!("Invalid path: {decoded}")));
    };
    if matches!(device, "." | "..") {
        return Err(refuse(400, format!("Invalid device: {device}")));
    }
    let valid_partition = !partition.is_empty()
        && partition.len() <= 10
        && partition.bytes().all(|b| b.is_ascii_digit());
    let partition = match partition.parse::<u32>() {
        Ok(p) if valid_partition => p,
        _ => return Err(refuse(400, format!("Invalid partition: {partition}"))),
    };
    Ok(ObjectPath {
        device: device.to_string(),
        partition,
        account: account.to_string(),
        container: container.to_string(),
        object: object.to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_device_partition_and_names() {
        let p = parse("/sdb1/17/AUTH_a/c/dir/o%20x").unwrap();
        assert_eq!(p.device, "sdb1");
        assert_eq!(p.partition, 17);
        assert_eq!((p.account.as_str(), p.container.as_str()), ("AUTH_a", "c"));
        assert_eq!(p.object, "dir/o x");
    }

    #[test]
    fn refuses_short_paths_and_bad_parts() {
        for bad in [
            "/sdb1/17/AUTH_a/c",
            "/sdb1/17/AUTH_a/c/",
            "/sdb1//AUTH_a/c/o",
            "sdb1/1/a/c/o",
            "/../1/a/c/o",
            "/sdb1/x/a/c/o",
            "/sdb1/-1/a/c/o",
            "/sdb1/99999999999/a/c/o",
        ] {
            assert_eq!(parse(bad).unwrap_err().status, 400, "{bad}");
        }
        assert_eq!(parse("/sdb1/1/a/c/%FF").unwrap_err().status, 412);
    }
}
