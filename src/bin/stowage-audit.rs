//! `stowage-audit [--conf FILE] ROOT`: checks every SQLite DB and every
//! object of a storage root, quarantines bad objects, prints what it found
//! and a summary. A root whose names are salted (`StowageHashPathPrefix` /
//! `-Suffix`) needs `--conf` with the file holding those lines; a salt the
//! root was not written with is refused. Exit status: 0 all good, 1
//! something was damaged, 2 the audit itself failed (usage, unreadable root
//! or configuration, a salt the root was not written with, files it could
//! not check).
//!
//! Started as root on a root owned by another user (www-data), it switches
//! to that user first, so whatever it creates (quarantine directories, DB
//! side files) stays usable by the server.

use std::os::unix::fs::MetadataExt;
use std::path::PathBuf;
use std::process::ExitCode;

const USAGE: &str = "usage: stowage-audit [--conf APACHE_CONF] STORAGE_ROOT
  STORAGE_ROOT  the StowageRoot of a vhost
  --conf FILE   the file with the vhost's StowageHashPathPrefix/-Suffix lines
                (its hash-path salt; without it: no salt)";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (conf, root) = match args.as_slice() {
        [root] if !root.starts_with('-') => (None, root),
        [flag, conf, root] if flag == "--conf" => (Some(conf), root),
        _ => {
            eprintln!("{USAGE}");
            return ExitCode::from(2);
        }
    };
    // Read before switching users: the configuration may be root's alone.
    let hash_path = match conf {
        None => stowage::store::hash_path::HashPath::unsalted(),
        Some(file) => match std::fs::read_to_string(file)
            .map_err(|e| e.to_string())
            .and_then(|text| {
                stowage::node::config::hash_path_from_conf(&text).map_err(|e| e.to_string())
            }) {
            Ok(hp) => hp,
            Err(e) => return fail(&format!("{file}: {e}")),
        },
    };
    let root = PathBuf::from(root);
    let owner = match std::fs::metadata(&root) {
        Ok(m) if m.is_dir() => (m.uid(), m.gid()),
        Ok(_) => return fail(&format!("{} is not a directory", root.display())),
        Err(e) => return fail(&format!("{}: {e}", root.display())),
    };
    if stowage::core::os::effective_uid() == 0 && owner.0 != 0 {
        if let Err(e) = stowage::core::os::switch_user(owner.0, owner.1) {
            return fail(&format!(
                "switching to the owner of {}: {e}",
                root.display()
            ));
        }
    }
    let report = match stowage::node::audit::run(&root, &hash_path, &mut |line| println!("{line}"))
    {
        Ok(r) => r,
        Err(e) => return fail(&e.to_string()),
    };
    println!("{}", report.summary());
    if !report.errors.is_empty() {
        ExitCode::from(2)
    } else if report.clean() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    }
}

fn fail(msg: &str) -> ExitCode {
    eprintln!("stowage-audit: {msg}");
    ExitCode::from(2)
}
