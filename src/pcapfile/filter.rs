//! The offline BPF filter of `labrun analyze --filter`: libpcap compiles the
//! expression for a link type and runs the program over each frame. There is
//! no well-kept BPF compiler in Rust, so the filter needs libpcap and is there
//! only in builds with live capture (the `live-capture` feature, on by
//! default); reading the file itself never needs libpcap.

use super::PcapFileError;

/// A filter expression, compiled once per link type met in the file.
#[cfg(feature = "live-capture")]
pub struct Filter {
    expr: String,
    programs: Vec<(u32, pcap::BpfProgram)>,
}

#[cfg(feature = "live-capture")]
impl Filter {
    /// Compiles `expr` for frames of DLT `dlt`: a bad expression fails here.
    pub fn new(expr: &str, dlt: u32) -> Result<Filter, PcapFileError> {
        let mut f = Filter {
            expr: expr.to_string(),
            programs: Vec::new(),
        };
        f.program(dlt)?;
        Ok(f)
    }

    fn program(&mut self, dlt: u32) -> Result<&pcap::BpfProgram, PcapFileError> {
        let at = match self.programs.iter().position(|(d, _)| *d == dlt) {
            Some(at) => at,
            None => {
                let fail = |e: pcap::Error| PcapFileError::Filter {
                    filter: self.expr.clone(),
                    message: e.to_string(),
                };
                let dead = pcap::Capture::dead(pcap::Linktype(i32::try_from(dlt).unwrap_or(1)))
                    .map_err(fail)?;
                let program = dead.compile(&self.expr, true).map_err(fail)?;
                self.programs.push((dlt, program));
                self.programs.len() - 1
            }
        };
        let (_, program) = self.programs.get(at).ok_or_else(|| PcapFileError::Filter {
            filter: self.expr.clone(),
            message: "no program".into(),
        })?;
        Ok(program)
    }

    /// Whether the frame `data` of DLT `dlt` passes the filter.
    pub fn matches(&mut self, dlt: u32, data: &[u8]) -> Result<bool, PcapFileError> {
        Ok(self.program(dlt)?.filter(data))
    }
}

/// Without libpcap there is no BPF compiler: `--filter` is refused with a reason.
#[cfg(not(feature = "live-capture"))]
pub struct Filter;

#[cfg(not(feature = "live-capture"))]
impl Filter {
    /// Always refuses: this build has no libpcap to compile the expression.
    pub fn new(expr: &str, _dlt: u32) -> Result<Filter, PcapFileError> {
        Err(PcapFileError::Filter {
            filter: expr.to_string(),
            message: "this labrun was built without libpcap (feature live-capture), which compiles BPF filters; use --stream or filter the CSV instead".into(),
        })
    }

    /// Never called: [`Filter::new`] always fails.
    pub fn matches(&mut self, _dlt: u32, _data: &[u8]) -> Result<bool, PcapFileError> {
        Ok(true)
    }
}
