//! nftables inside a lab host: the `nft` program run in the host's namespace, on
//! labrun's own table only (the rules themselves: `network::Firewall`).

use super::SandboxError;
use std::io::{self, Write};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// How long `nft` may take before labrun gives up on it.
const NFT_TIMEOUT: Duration = Duration::from_secs(5);

/// Runs `nft -f -` with `script` in a process that `spawn` starts (inside a lab host's
/// namespace); returns nft's output. `spawn` answers why it could not enter the host, if it could not.
pub fn nft(
    spawn: impl FnOnce(&mut Command) -> Result<io::Result<Child>, String>,
    script: &str,
) -> Result<String, SandboxError> {
    let fail = SandboxError::Nft;
    let program = ["/usr/sbin/nft", "/sbin/nft", "nft"]
        .into_iter()
        .find(|p| !p.starts_with('/') || std::path::Path::new(p).exists())
        .unwrap_or("nft");
    let mut command = Command::new(program);
    command
        .args(["-f", "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let child = spawn(&mut command).map_err(fail)?;
    let mut child = child.map_err(|e| {
        fail(if e.kind() == io::ErrorKind::NotFound {
            "the `nft` program is missing: install nftables (`apt-get install nftables`)".into()
        } else {
            format!("cannot run nft: {e}")
        })
    })?;
    if let Some(mut stdin) = child.stdin.take() {
        stdin
            .write_all(script.as_bytes())
            .map_err(|e| fail(format!("cannot write to nft: {e}")))?;
    }
    let started = Instant::now();
    loop {
        match child.try_wait() {
            Ok(Some(_)) => break,
            Ok(None) if started.elapsed() < NFT_TIMEOUT => {
                std::thread::sleep(Duration::from_millis(2))
            }
            Ok(None) => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(fail(format!(
                    "nft did not finish within {}",
                    crate::util::fmt_duration(NFT_TIMEOUT)
                )));
            }
            Err(e) => return Err(fail(format!("cannot wait for nft: {e}"))),
        }
    }
    let out = child
        .wait_with_output()
        .map_err(|e| fail(format!("cannot read nft's output: {e}")))?;
    if out.status.success() {
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    } else {
        Err(fail(format!(
            "nft failed: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        )))
    }
}
