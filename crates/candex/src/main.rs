//! The `candex` binary: parse the command line (with the config file applied), run it, map the
//! outcome to an exit code.

fn main() -> std::process::ExitCode {
    match candex::config::parse_command_line(std::env::args_os()) {
        Ok(cli) => candex::run(cli),
        Err(code) => code,
    }
}
