//! What the hub benchmarks share: their passwords and reading `--name N` arguments.

pub const PASSWORD: &str = "device-pass-1";
pub const ACCOUNT_PASSWORD: &str = "account-pass-1";

/// The number after `name` on the command line, or `default`.
pub fn arg(name: &str, default: usize) -> usize {
    let args: Vec<String> = std::env::args().collect();
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}
