//! Wireshark's window scale state of one direction of a TCP connection.

/// Wireshark's window scale state of one direction.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WinScale {
    /// No SYN seen yet: the window is shown unscaled.
    Unknown,
    /// The handshake showed that scaling is not used.
    NoScaling,
    /// Shift count in effect.
    Shift(u8),
}
