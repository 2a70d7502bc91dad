//! [`Rate`]: how many events a socket may send in a period, for rate limits.

use std::fmt;
use std::num::NonZeroU32;
use std::str::FromStr;
use std::time::Duration;

/// A rate limit: at most `count` events per `period`, replenished evenly (one every
/// `period / count`), with bursts of up to `count` at once. Written `"10/s"`, `"100/m"`,
/// `"1000/h"` or with a period of its own: `"5/10s"`, `"3/500ms"`.
///
/// The rule is the one `#[on(.., rate = "..")]` checks at compile time.
///
/// ```
/// use std::time::Duration;
/// use specter::Rate;
///
/// let rate: Rate = "5/10s".parse().unwrap();
/// assert_eq!((rate.count(), rate.period()), (5, Duration::from_secs(10)));
/// assert_eq!(rate, Rate::new(5, Duration::from_secs(10)).unwrap());
/// assert_eq!("10/s".parse::<Rate>().unwrap().to_string(), "10/1s");
/// assert!("5 per parsec".parse::<Rate>().is_err());
/// assert!("0/s".parse::<Rate>().is_err());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Rate {
    count: NonZeroU32,
    period: Duration,
}

/// Why a rate did not parse.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RateError(&'static str);

impl fmt::Display for RateError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.0)
    }
}

impl std::error::Error for RateError {}

const RULE: &str = "a rate is COUNT/PERIOD with COUNT > 0 and PERIOD `s`, `m`, `h` or a duration such as `10s` or `500ms`: \"10/s\"";

impl Rate {
    /// `count` events per `period`; `None` when either is zero.
    pub fn new(count: u32, period: Duration) -> Option<Self> {
        let count = NonZeroU32::new(count)?;
        (!period.is_zero()).then_some(Self { count, period })
    }

    /// `count` events per second.
    pub fn per_second(count: NonZeroU32) -> Self {
        Self {
            count,
            period: Duration::from_secs(1),
        }
    }

    /// `count` events per minute.
    pub fn per_minute(count: NonZeroU32) -> Self {
        Self {
            count,
            period: Duration::from_secs(60),
        }
    }

    /// How many events fit in a period (and in a burst).
    pub fn count(&self) -> u32 {
        self.count.get()
    }

    /// The period.
    pub fn period(&self) -> Duration {
        self.period
    }

    /// The quota of `governor` that enforces it.
    pub(crate) fn quota(&self) -> governor::Quota {
        let each = self.period / self.count.get();
        governor::Quota::with_period(each.max(Duration::from_nanos(1)))
            .expect("a period above zero")
            .allow_burst(self.count)
    }
}

impl FromStr for Rate {
    type Err = RateError;

    fn from_str(text: &str) -> Result<Self, RateError> {
        Rate::parse(text)
    }
}

impl Rate {
    /// Parses `"10/s"`, `"5/10s"`: [`FromStr`]'s rule, usable in constants, which is
    /// how `#[on(.., rate = "..")]` checks its literal.
    ///
    /// ```
    /// use specter::Rate;
    ///
    /// const TEN: Rate = match Rate::parse("10/s") {
    ///     Ok(rate) => rate,
    ///     Err(_) => panic!("a rate"),
    /// };
    /// assert_eq!(TEN.count(), 10);
    /// ```
    pub const fn parse(text: &str) -> Result<Self, RateError> {
        let text = text.as_bytes().trim_ascii();
        let mut slash = 0;
        while slash < text.len() && text[slash] != b'/' {
            slash += 1;
        }
        if slash == text.len() {
            return Err(RateError(RULE));
        }
        let (count, period) = text.split_at(slash);
        let (_, period) = period.split_at(1);
        let count = match number(count.trim_ascii()) {
            Some(n) if n <= u32::MAX as u64 => n as u32,
            _ => return Err(RateError(RULE)),
        };
        let period_ms = match period.trim_ascii() {
            b"s" => 1_000,
            b"m" => 60_000,
            b"h" => 3_600_000,
            other => match millis(other) {
                Some(ms) => ms,
                None => return Err(RateError(RULE)),
            },
        };
        match NonZeroU32::new(count) {
            Some(count) if period_ms > 0 => Ok(Self {
                count,
                period: Duration::from_millis(period_ms),
            }),
            _ => Err(RateError(RULE)),
        }
    }
}

/// The rate `text` is, or a panic with the rule: the form the macros call inside a
/// `const` item, so a bad literal is a compile error.
#[doc(hidden)]
pub const fn assert_rate(text: &str) -> Rate {
    match Rate::parse(text) {
        Ok(rate) => rate,
        Err(e) => panic!("{}", e.0),
    }
}

/// The duration `text` (`"250ms"`, `"5s"`, `"1m"`, `"1h"`, above zero) is, or a panic
/// with the rule: how `#[on(.., timeout = "..")]` checks its literal.
#[doc(hidden)]
pub const fn assert_duration(text: &str) -> Duration {
    match millis(text.as_bytes()) {
        Some(ms) if ms > 0 => Duration::from_millis(ms),
        _ => panic!("a timeout is a duration above zero like \"250ms\", \"5s\" or \"1m\""),
    }
}

/// `"500ms"`, `"10s"`, `"2m"`, `"1h"` in milliseconds.
const fn millis(text: &[u8]) -> Option<u64> {
    let mut digits = 0;
    while digits < text.len() && text[digits].is_ascii_digit() {
        digits += 1;
    }
    let (n, unit) = text.split_at(digits);
    let Some(n) = number(n) else {
        return None;
    };
    let per = match unit {
        b"ms" => 1,
        b"s" => 1_000,
        b"m" => 60_000,
        b"h" => 3_600_000,
        _ => return None,
    };
    n.checked_mul(per)
}

/// The decimal number `digits` (one digit at least) is.
const fn number(digits: &[u8]) -> Option<u64> {
    if digits.is_empty() {
        return None;
    }
    let mut n: u64 = 0;
    let mut i = 0;
    while i < digits.len() {
        if !digits[i].is_ascii_digit() {
            return None;
        }
        n = match n.checked_mul(10) {
            Some(n) => match n.checked_add((digits[i] - b'0') as u64) {
                Some(n) => n,
                None => return None,
            },
            None => return None,
        };
        i += 1;
    }
    Some(n)
}

impl fmt::Display for Rate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{:?}", self.count, self.period)
    }
}
