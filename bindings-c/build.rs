//! The shared library's SONAME, as distributions expect it: `libauthcore.so.<ABI>`, where
//! ABI is MAJOR from 1.0 on and `0.MINOR` before (while MAJOR is 0 a change of MINOR may
//! break the ABI, see `AUTHCORE_SONAME` in the header). cargo names the file
//! `libauthcore_ffi.so`; `make install` (scripts/c-install.sh) installs it as
//! `libauthcore.so.MAJOR.MINOR.PATCH` with the `libauthcore.so.<ABI>` and `libauthcore.so`
//! links, and scripts/c.sh links the in-tree tests through the same names.

fn main() {
    let major = std::env::var("CARGO_PKG_VERSION_MAJOR").expect("cargo sets it");
    let minor = std::env::var("CARGO_PKG_VERSION_MINOR").expect("cargo sets it");
    let abi = if major == "0" {
        format!("0.{minor}")
    } else {
        major
    };
    let os = std::env::var("CARGO_CFG_TARGET_OS").unwrap_or_default();
    let family = std::env::var("CARGO_CFG_TARGET_FAMILY").unwrap_or_default();
    // ELF platforms (the GNU/LLVM linkers' -soname); Apple has install names, Windows none.
    if family.split(',').any(|f| f == "unix") && !matches!(os.as_str(), "macos" | "ios") {
        println!("cargo:rustc-cdylib-link-arg=-Wl,-soname,libauthcore.so.{abi}");
    }
    println!("cargo:rerun-if-changed=build.rs");
}
