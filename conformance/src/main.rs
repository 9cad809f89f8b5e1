//! The `lrs-conformance` binary: everything lives in the library's `cli` module.

fn main() -> std::process::ExitCode {
    lrs_conformance::cli::main()
}
