//! Fuzz target: one frame of every link type through the decoder.
#![no_main]

use labrun_wire::{LinkType, decode};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    for link in [
        LinkType::Ethernet,
        LinkType::LinuxSll,
        LinkType::LinuxSll2,
        LinkType::Null,
        LinkType::RawIp,
        LinkType::Pktap,
    ] {
        let _ = decode(link, data);
    }
});
