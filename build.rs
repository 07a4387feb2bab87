//! Generates the Rust view of the C ABI from the hand-written header, so the
//! header stays the one source of truth for both sides.
use std::env;
use std::path::PathBuf;

fn main() {
    let header = "ffi/stowage.h";
    println!("cargo:rerun-if-changed={header}");
    // Never unmapped once loaded: Apache children may dlclose modules from
    // exit() while worker threads still run library code (see
    // scripts/build-shim.sh, which links the shim the same way).
    println!("cargo:rustc-cdylib-link-arg=-Wl,-z,nodelete");
    let bindings = bindgen::Builder::default()
        .header(header)
        .allowlist_type("stowage_.*")
        .allowlist_var("STOWAGE_.*")
        .allowlist_function("stowage_.*")
        .prepend_enum_name(false)
        .derive_default(false)
        .layout_tests(true)
        .generate()
        .unwrap_or_else(|e| panic!("bindgen failed on {header}: {e}"));
    let out = PathBuf::from(env::var("OUT_DIR").expect("cargo sets OUT_DIR"));
    bindings
        .write_to_file(out.join("stowage_abi.rs"))
        .expect("writing bindings to OUT_DIR");
}
