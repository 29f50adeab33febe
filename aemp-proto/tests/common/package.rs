//! Where this package's files are while its tests run.
#![allow(dead_code)]

use std::path::PathBuf;

/// The package's directory: `CARGO_MANIFEST_DIR` as cargo sets it for the running test,
/// else its value at compile time (which is stale when a copy of the workspace reuses
/// test binaries built in another place).
pub fn package_dir() -> PathBuf {
    std::env::var_os("CARGO_MANIFEST_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")))
}

/// The copy of the Perl reference vectors kept in this crate (`tests/vectors/`; its
/// README says where they come from).
pub fn vectors_dir() -> PathBuf {
    package_dir().join("tests").join("vectors")
}
