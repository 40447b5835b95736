//! tc inside the lab switch: a token-bucket bottleneck (`tbf`) on the egress of a switch
//! port, so the hosts behind it see a slow link with a finite queue (the congestion lab).
//! tbf is a plain queueing discipline, built into kernels that lack netem.

use super::{Netns, SandboxError};
use std::process::Command;

/// Makes `dev` (in the switch namespace `ns`) send at most `rate_kbit` kbit/s, queueing at
/// most `queue_bytes` bytes and dropping what does not fit: `tc qdisc replace dev DEV root
/// tbf rate R burst B limit Q`.
pub fn bottleneck(
    ns: &Netns,
    dev: &str,
    rate_kbit: u32,
    queue_bytes: u32,
) -> Result<(), SandboxError> {
    let fail = |m: String| SandboxError::Tc(format!("the bottleneck on `{dev}`: {m}"));
    let program = ["/usr/sbin/tc", "/sbin/tc", "tc"]
        .into_iter()
        .find(|p| !p.starts_with('/') || std::path::Path::new(p).exists())
        .unwrap_or("tc");
    // Two full frames of burst: the token bucket releases at most that much at once.
    let burst = 3028;
    let mut cmd = Command::new(program);
    cmd.args(["qdisc", "replace", "dev", dev, "root", "tbf", "rate"])
        .arg(format!("{rate_kbit}kbit"))
        .args([
            "burst",
            &burst.to_string(),
            "limit",
            &queue_bytes.to_string(),
        ]);
    let out = ns
        .enter(|| cmd.output())
        .map_err(|e| fail(e.to_string()))?
        .map_err(|e| {
            fail(if e.kind() == std::io::ErrorKind::NotFound {
                "the `tc` program is missing: install iproute2 (`apt-get install iproute2`)".into()
            } else {
                format!("cannot run tc: {e}")
            })
        })?;
    if out.status.success() {
        Ok(())
    } else {
        let err = String::from_utf8_lossy(&out.stderr).trim().to_string();
        Err(fail(if err.contains("unknown") {
            format!("this kernel has no tbf queueing discipline ({err})")
        } else {
            format!("tc failed: {err}")
        }))
    }
}
