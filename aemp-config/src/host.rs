//! This machine's host name: the default profile name (as in the original, which uses the
//! node name from uname) and part of the addresses a node advertises.

/// This host's name: the kernel's host name, else `/etc/hostname`, else `$HOSTNAME` (or
/// `%COMPUTERNAME%`), else `localhost`. The one place every crate of this project asks.
///
/// ```
/// assert!(!aemp_config::hostname().is_empty());
/// ```
pub fn hostname() -> String {
    let from_file = |path: &str| {
        std::fs::read_to_string(path)
            .ok()
            .map(|s| s.trim().to_owned())
            .filter(|h| !h.is_empty())
    };
    from_file("/proc/sys/kernel/hostname")
        .or_else(|| from_file("/etc/hostname"))
        .or_else(|| {
            std::env::var("HOSTNAME")
                .ok()
                .or_else(|| std::env::var("COMPUTERNAME").ok())
                .map(|h| h.trim().to_owned())
                .filter(|h| !h.is_empty())
        })
        .unwrap_or_else(|| "localhost".to_owned())
}
