//! The node-wide CORS settings, Swift's proxy-server.conf options as
//! directives, with Swift's defaults:
//!
//! ```apache
//! StowageCorsAllowOrigin https://app.example https://other.example  # cors_allow_origin
//! StowageCorsExposeHeaders X-Custom-Header                          # cors_expose_headers
//! StowageStrictCorsMode On                                          # strict_cors_mode
//! ```
//! The origins allowed here are allowed for every container, besides those
//! a container names in `X-Container-Meta-Access-Control-Allow-Origin`;
//! the exposed headers are added to every CORS answer's
//! `Access-Control-Expose-Headers`. With strict mode off, an actual CORS
//! request gets the CORS headers even from an origin nobody allowed (Swift's
//! old behaviour). What they do on the wire: `swift::middleware::cors`.

/// One vhost's CORS settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CorsConfig {
    /// Origins allowed for every container (`cors_allow_origin`; `*`: any).
    pub allow_origin: Vec<String>,
    /// Headers every CORS answer exposes (`cors_expose_headers`), as written.
    pub expose_headers: Vec<String>,
    /// `strict_cors_mode` (Swift's default: true).
    pub strict: bool,
}

impl Default for CorsConfig {
    fn default() -> Self {
        CorsConfig {
            allow_origin: Vec::new(),
            expose_headers: Vec::new(),
            strict: true,
        }
    }
}

/// The items of a list directive: each argument may itself be a
/// comma-separated list, as Swift's option is (`a, b` and `a b` alike);
/// empty items are dropped.
pub fn parse_list(name: &str, args: &[&str]) -> Result<Vec<String>, String> {
    let items: Vec<String> = args
        .iter()
        .flat_map(|a| a.split(','))
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .collect();
    if items.is_empty() {
        return Err(format!("{name} takes one or more values"));
    }
    if let Some(bad) = items
        .iter()
        .find(|s| s.bytes().any(|b| b.is_ascii_control()))
    {
        return Err(format!("{name}: invalid value {bad:?}"));
    }
    Ok(items)
}

/// `StowageStrictCorsMode On|Off`.
pub fn parse_strict(args: &[&str]) -> Result<bool, String> {
    match args {
        [v] if v.eq_ignore_ascii_case("on") => Ok(true),
        [v] if v.eq_ignore_ascii_case("off") => Ok(false),
        [v] => Err(format!("StowageStrictCorsMode {v}: expected On or Off")),
        _ => Err("StowageStrictCorsMode takes one argument: On or Off".into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_directives() {
        assert_eq!(
            parse_list(
                "StowageCorsAllowOrigin",
                &["https://a.example, https://b.example", "*"]
            ),
            Ok(vec![
                "https://a.example".to_string(),
                "https://b.example".to_string(),
                "*".to_string()
            ])
        );
        assert!(parse_list("StowageCorsAllowOrigin", &[]).is_err());
        assert!(parse_list("StowageCorsAllowOrigin", &[" , "]).is_err());
        assert!(parse_list("StowageCorsExposeHeaders", &["x-a\tb"]).is_err());
        assert_eq!(parse_strict(&["off"]), Ok(false));
        assert_eq!(parse_strict(&["On"]), Ok(true));
        assert!(parse_strict(&["maybe"]).unwrap_err().contains("maybe"));
        assert!(parse_strict(&[]).is_err());
        assert!(CorsConfig::default().strict);
    }
}
