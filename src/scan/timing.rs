//! Timing of a scan: the round-trip time estimate and the timeout it gives (RFC 6298's
//! smoothing), the window of probes in flight, and the bookkeeping of which port was
//! probed when, answered, retried or given up.

use super::{PortResult, PortState, Reason, ScanStats};
use crate::progress::SharedProgress;
use std::collections::VecDeque;
use std::time::{Duration, Instant};

/// The shortest probe timeout, however small the measured round-trip time: a reply that
/// waits behind a burst of other replies on a busy 2-core machine is still counted.
pub const MIN_TIMEOUT: Duration = Duration::from_millis(10);

/// The smallest window of probes in flight after losses (answers that came only to a retry).
pub const MIN_WINDOW: usize = 16;

/// Smoothed round-trip time and its variation (RFC 6298), and the timeout they give.
#[derive(Debug, Clone)]
pub struct RttEstimator {
    srtt: Option<Duration>,
    rttvar: Duration,
    min: Duration,
    max: Duration,
}

impl RttEstimator {
    /// An estimator whose timeout stays within `min..=max` (`max` until the first sample).
    pub fn new(min: Duration, max: Duration) -> RttEstimator {
        RttEstimator {
            srtt: None,
            rttvar: Duration::ZERO,
            min: min.min(max),
            max,
        }
    }

    /// Adds one measured round trip.
    pub fn sample(&mut self, rtt: Duration) {
        match self.srtt {
            None => {
                self.srtt = Some(rtt);
                self.rttvar = rtt / 2;
            }
            Some(s) => {
                let diff = s.abs_diff(rtt);
                self.rttvar = (self.rttvar * 3 + diff) / 4;
                self.srtt = Some((s * 7 + rtt) / 8);
            }
        }
    }

    /// The smoothed round-trip time, once measured.
    pub fn srtt(&self) -> Option<Duration> {
        self.srtt
    }

    /// How long a probe waits for its answer: srtt + 4 × rttvar within the bounds, or the
    /// maximum before anything was measured.
    pub fn timeout(&self) -> Duration {
        match self.srtt {
            None => self.max,
            Some(s) => (s + self.rttvar * 4).clamp(self.min, self.max),
        }
    }
}

/// Where one port stands.
#[derive(Debug, Clone, Default)]
struct Slot {
    tries: u32,
    sent: Option<Instant>,
    result: Option<(PortState, Reason, Option<Duration>)>,
}

/// The bookkeeping of a scan: which probe to send next, which have timed out, the
/// results. Probes go out in port order; retries go first; at most `window` wait at once;
/// the window grows by one per answer and halves for an answer that came only after a retry.
#[derive(Debug)]
pub struct Schedule {
    ports: Vec<u16>,
    index: Vec<u32>,
    slots: Vec<Slot>,
    next: usize,
    retry: VecDeque<usize>,
    /// Per try number (from 1): (sent at, slot) in send order. Every probe of one try
    /// waits equally long, so the front of each queue is the first to time out.
    flight: Vec<VecDeque<(Instant, usize)>>,
    in_flight: usize,
    done: usize,
    window: usize,
    max_window: usize,
    retries: u32,
    silent: (PortState, Reason),
    rtt: RttEstimator,
    stats: ScanStats,
    progress: Option<SharedProgress>,
}

impl Schedule {
    /// A schedule for `ports` (ascending, distinct), at most `max_window` probes in flight,
    /// `retries` retries per port; a port never answered ends as `silent`.
    pub fn new(
        ports: &[u16],
        max_window: usize,
        retries: u32,
        max_timeout: Duration,
        silent: (PortState, Reason),
        progress: Option<SharedProgress>,
    ) -> Schedule {
        let mut index = vec![0u32; 65536];
        for (i, &p) in ports.iter().enumerate() {
            index[usize::from(p)] = u32::try_from(i + 1).unwrap_or(0);
        }
        let max_window = max_window.max(1);
        Schedule {
            ports: ports.to_vec(),
            index,
            slots: vec![Slot::default(); ports.len()],
            next: 0,
            retry: VecDeque::new(),
            flight: vec![VecDeque::new(); retries as usize + 1],
            in_flight: 0,
            done: 0,
            window: max_window,
            max_window,
            retries,
            silent,
            rtt: RttEstimator::new(MIN_TIMEOUT, max_timeout),
            stats: ScanStats::default(),
            progress,
        }
    }

    /// The slot of `port`, if it is being scanned.
    pub fn slot_of(&self, port: u16) -> Option<usize> {
        match self.index[usize::from(port)] {
            0 => None,
            n => Some(n as usize - 1),
        }
    }

    /// The port of slot `i`.
    pub fn port(&self, i: usize) -> u16 {
        self.ports[i]
    }

    /// Probes sent to slot `i` so far.
    pub fn tries(&self, i: usize) -> u32 {
        self.slots[i].tries
    }

    /// True when slot `i` has its result.
    pub fn is_done(&self, i: usize) -> bool {
        self.slots[i].result.is_some()
    }

    /// The next probe to send now, as (slot, try number from 1), if the window allows one.
    pub fn next_probe(&mut self, now: Instant) -> Option<(usize, u32)> {
        if self.in_flight >= self.window {
            return None;
        }
        let i = loop {
            if let Some(i) = self.retry.pop_front() {
                if self.slots[i].result.is_none() {
                    break i;
                }
                continue;
            }
            if self.next < self.ports.len() {
                self.next += 1;
                break self.next - 1;
            }
            return None;
        };
        let slot = &mut self.slots[i];
        slot.tries += 1;
        slot.sent = Some(now);
        if slot.tries > 1 {
            self.stats.retries += 1;
        }
        self.stats.probes += 1;
        self.in_flight += 1;
        self.stats.max_in_flight = self.stats.max_in_flight.max(self.in_flight);
        self.flight[slot.tries as usize - 1].push_back((now, i));
        Some((i, slot.tries))
    }

    /// Takes back the probe just handed out for slot `i`: it could not be sent now (the
    /// socket buffer is full) and will be handed out again.
    pub fn unsend(&mut self, i: usize) {
        let slot = &mut self.slots[i];
        if slot.tries > 1 {
            self.stats.retries -= 1;
        }
        self.flight[slot.tries as usize - 1].pop_back();
        slot.tries -= 1;
        self.stats.probes -= 1;
        self.in_flight -= 1;
        self.retry.push_front(i);
    }

    /// Records the answer for slot `i`; `try_no` is the probe it answers when known (a
    /// round-trip sample is taken only then, and only for the latest probe: Karn's rule).
    /// Returns false when the port already had its result.
    pub fn answer(
        &mut self,
        i: usize,
        try_no: Option<u32>,
        state: PortState,
        reason: Reason,
        now: Instant,
    ) -> bool {
        let slot = &mut self.slots[i];
        if slot.result.is_some() {
            return false;
        }
        let rtt = match (slot.sent, try_no) {
            (Some(sent), Some(t)) if t == slot.tries => Some(now.saturating_duration_since(sent)),
            (Some(sent), None) => Some(now.saturating_duration_since(sent)),
            _ => None,
        };
        if let Some(r) = rtt.filter(|_| try_no.is_some()) {
            self.rtt.sample(r);
        }
        // An answer that came only after a retry means a probe or its answer was lost (or
        // late): send less at once. Silence alone is no sign of loss: a firewall that drops
        // is silent too, and shrinking the window for it would slow a filtered scan to a crawl.
        let lost = slot.tries > 1;
        slot.result = Some((state, reason, rtt));
        self.stats.replies += 1;
        if slot.sent.is_some() {
            self.in_flight = self.in_flight.saturating_sub(1);
        }
        slot.sent = None;
        self.window = if lost {
            (self.window / 2).max(MIN_WINDOW.min(self.max_window))
        } else {
            (self.window + 1).min(self.max_window)
        };
        self.finish_one();
        true
    }

    fn finish_one(&mut self) {
        self.done += 1;
        if let Some(p) = &self.progress {
            p.inc(1);
        }
    }

    /// How long probe number `try_no` waits: the timeout, doubled for each retry before
    /// it (as TCP backs off its retransmissions), never more than the maximum.
    fn wait_for(&self, try_no: u32) -> Duration {
        let t = self.rtt.timeout();
        t.saturating_mul(1 << (try_no - 1).min(16))
            .min(self.rtt.max.max(t))
    }

    /// Handles probes whose timeout passed: each is retried or, after the last retry, its
    /// port ends unanswered. Returns the slots whose probe timed out, so their sockets can
    /// be dropped.
    pub fn expire(&mut self, now: Instant) -> Vec<usize> {
        let mut expired = Vec::new();
        for k in 0..self.flight.len() {
            let t = k as u32 + 1;
            let wait = self.wait_for(t);
            while let Some(&(sent, i)) = self.flight[k].front() {
                let slot = &self.slots[i];
                if slot.result.is_some() || slot.tries != t || slot.sent.is_none() {
                    self.flight[k].pop_front();
                    continue;
                }
                if now.saturating_duration_since(sent) < wait {
                    break;
                }
                self.flight[k].pop_front();
                self.in_flight -= 1;
                expired.push(i);
                self.slots[i].sent = None;
                if t <= self.retries {
                    self.retry.push_back(i);
                } else {
                    let (state, reason) = self.silent;
                    self.slots[i].result = Some((state, reason, None));
                    self.finish_one();
                }
            }
        }
        expired
    }

    /// When the next probe in flight times out, if any is in flight.
    pub fn next_deadline(&self) -> Option<Instant> {
        self.flight
            .iter()
            .enumerate()
            .filter_map(|(k, q)| {
                let t = k as u32 + 1;
                q.iter()
                    .find(|&&(_, i)| {
                        let s = &self.slots[i];
                        s.result.is_none() && s.tries == t && s.sent.is_some()
                    })
                    .map(|&(sent, _)| sent + self.wait_for(t))
            })
            .min()
    }

    /// True when every port has its result.
    pub fn finished(&self) -> bool {
        self.done == self.ports.len()
    }

    /// Probes in flight now.
    pub fn in_flight(&self) -> usize {
        self.in_flight
    }

    /// Counts one RST the scanner's own kernel sent.
    pub fn count_kernel_rst(&mut self) {
        self.stats.kernel_rsts += 1;
    }

    /// The results in port order and the counters.
    pub fn finish(self, elapsed: Duration) -> (Vec<PortResult>, ScanStats) {
        let mut stats = self.stats;
        stats.elapsed = elapsed;
        stats.srtt = self.rtt.srtt();
        stats.timeout = self.rtt.timeout();
        let silent = self.silent;
        let ports = self
            .ports
            .iter()
            .zip(self.slots)
            .map(|(&port, s)| {
                let (state, reason, rtt) = s.result.unwrap_or((silent.0, silent.1, None));
                PortResult {
                    port,
                    state,
                    reason,
                    tries: s.tries,
                    rtt,
                }
            })
            .collect();
        (ports, stats)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timeout_follows_the_round_trip_time() {
        let mut r = RttEstimator::new(Duration::from_millis(10), Duration::from_secs(1));
        assert_eq!(r.timeout(), Duration::from_secs(1));
        r.sample(Duration::from_millis(40));
        // 40 + 4 × 20
        assert_eq!(r.timeout(), Duration::from_millis(120));
        for _ in 0..50 {
            r.sample(Duration::from_micros(30));
        }
        assert_eq!(r.timeout(), Duration::from_millis(10));
        r.sample(Duration::from_secs(30));
        assert_eq!(r.timeout(), Duration::from_secs(1));
    }

    #[test]
    fn retries_then_silence() {
        let silent = (PortState::Filtered, Reason::NoResponse);
        let mut s = Schedule::new(&[22, 80], 8, 1, Duration::from_millis(50), silent, None);
        let t0 = Instant::now();
        assert_eq!(s.next_probe(t0), Some((0, 1)));
        assert_eq!(s.next_probe(t0), Some((1, 1)));
        assert_eq!(s.next_probe(t0), None);
        assert!(s.answer(0, Some(1), PortState::Open, Reason::SynAck, t0));
        assert!(!s.answer(0, Some(1), PortState::Closed, Reason::Reset, t0));
        let t1 = t0 + Duration::from_millis(60);
        // The answer's round trip was 0 s: the timeout is now the minimum.
        assert_eq!(s.expire(t1), [1]);
        assert_eq!(s.next_probe(t1), Some((1, 2)));
        assert!(!s.finished());
        let t2 = t1 + Duration::from_millis(20);
        assert_eq!(s.expire(t2), [1]);
        assert!(s.finished());
        let (ports, stats) = s.finish(Duration::from_millis(80));
        assert_eq!(ports[0].state, PortState::Open);
        assert_eq!(ports[1].state, PortState::Filtered);
        assert_eq!(ports[1].tries, 2);
        assert_eq!((stats.probes, stats.retries, stats.replies), (3, 1, 1));
    }

    #[test]
    fn silence_keeps_the_window_loss_halves_it() {
        let silent = (PortState::Filtered, Reason::NoResponse);
        let ports: Vec<u16> = (1..=64).collect();
        let mut s = Schedule::new(&ports, 32, 2, Duration::from_millis(10), silent, None);
        let t0 = Instant::now();
        while s.next_probe(t0).is_some() {}
        assert_eq!(s.in_flight(), 32);
        // Every probe times out: a firewall, not congestion; the next round is as wide.
        assert_eq!(s.expire(t0 + Duration::from_millis(20)).len(), 32);
        let t1 = t0 + Duration::from_millis(20);
        let mut sent = Vec::new();
        while let Some(p) = s.next_probe(t1) {
            sent.push(p);
        }
        assert_eq!(sent.len(), 32);
        // An answer to a retry shows a loss: the window halves.
        let (i, t) = sent[0];
        assert_eq!(t, 2);
        s.answer(i, Some(t), PortState::Closed, Reason::Reset, t1);
        assert!(s.next_probe(t1).is_none(), "31 in flight, window 16");
    }
}
