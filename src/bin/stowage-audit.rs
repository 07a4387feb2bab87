//! `stowage-audit ROOT`: checks every SQLite DB and every object of a
//! storage root, quarantines bad objects, prints what it found and a
//! summary. Exit status: 0 all good, 1 something was damaged, 2 the audit
//! itself failed (usage, unreadable root, files it could not check).
//!
//! Started as root on a root owned by another user (www-data), it switches
//! to that user first, so whatever it creates (quarantine directories, DB
//! side files) stays usable by the server.

use std::os::unix::fs::MetadataExt;
use std::path::PathBuf;
use std::process::ExitCode;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [root] = args.as_slice() else {
        eprintln!("usage: stowage-audit STORAGE_ROOT   (the StowageRoot of a vhost)");
        return ExitCode::from(2);
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
    let report = match stowage::node::audit::run(&root, &mut |line| println!("{line}")) {
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
