//! TCP sequence numbers and their wrap-around comparison.

/// A TCP sequence (or acknowledgment) number: arithmetic and comparison wrap at 2^32.
///
/// Comparisons follow Wireshark's `LT_SEQ`/`GT_SEQ` family: `a < b` when the wrapped
/// distance from `b` to `a` is negative as an `i32`. They are not a total order (two numbers
/// 2^31 apart are each "before" the other), so the type has methods, not `PartialOrd`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct SeqNumber(pub u32);

impl SeqNumber {
    /// The signed distance from `other` to `self`, wrapping: positive when `self` is ahead.
    pub const fn distance(self, other: SeqNumber) -> i32 {
        self.0.wrapping_sub(other.0) as i32
    }

    /// `self` comes before `other` (Wireshark's `LT_SEQ`).
    pub const fn lt(self, other: SeqNumber) -> bool {
        self.distance(other) < 0
    }

    /// `self` comes after `other` (Wireshark's `GT_SEQ`): `other` comes before `self`.
    pub const fn gt(self, other: SeqNumber) -> bool {
        other.lt(self)
    }

    /// Not after `other`.
    pub const fn le(self, other: SeqNumber) -> bool {
        !self.gt(other)
    }

    /// Not before `other`.
    pub const fn ge(self, other: SeqNumber) -> bool {
        !self.lt(other)
    }

    /// Strictly ahead of `other` by less than 2^31 (a positive [`SeqNumber::distance`]).
    pub const fn ahead_of(self, other: SeqNumber) -> bool {
        self.distance(other) > 0
    }
}

#[cfg(test)]
mod tests {
    use super::SeqNumber as S;

    #[test]
    fn comparisons_wrap() {
        assert!(S(5).gt(S(u32::MAX - 4)) && S(u32::MAX - 4).lt(S(5)));
        assert!(S(7).le(S(7)) && S(7).ge(S(7)) && !S(7).lt(S(7)) && !S(7).ahead_of(S(7)));
        assert_eq!(S(3).distance(S(u32::MAX)), 4);
        // Half the space apart: each is before the other, and neither is ahead.
        let (a, b) = (S(0), S(1 << 31));
        assert!(a.lt(b) && b.lt(a) && a.gt(b));
        assert!(!a.ahead_of(b) && !b.ahead_of(a));
    }
}
