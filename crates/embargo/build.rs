//! Link options of the `embargo` binary.
//!
//! `EMBARGO_NO_PIE=1` at build time links a position-dependent executable:
//! the loader then has no relocations to apply to the binary's 0.6 MB of
//! read-only pointers (vtables, panic locations), which saves about 0.3 ms
//! on every start (BENCHMARKS.md, `embargo scan` against cargo-audit) at the
//! cost of address-space layout randomisation of the binary's own code and
//! data. The default keeps the
//! hardening: embargo is also a server facing untrusted input.
fn main() {
    println!("cargo:rerun-if-env-changed=EMBARGO_NO_PIE");
    let linux = std::env::var("CARGO_CFG_TARGET_OS").is_ok_and(|os| os == "linux");
    if linux && std::env::var("EMBARGO_NO_PIE").is_ok_and(|v| v == "1") {
        println!("cargo:rustc-link-arg-bins=-no-pie");
    }
}
