//! The `kubesim` binary: parses the command line and hands over to `cli`.

fn main() -> std::process::ExitCode {
    kubesim_cli::main()
}

#[path = "cli/mod.rs"]
mod kubesim_cli;
