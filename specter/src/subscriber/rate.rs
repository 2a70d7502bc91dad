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
        let (count, period) = text.trim().split_once('/').ok_or(RateError(RULE))?;
        let count: u32 = count.trim().parse().map_err(|_| RateError(RULE))?;
        let period = match period.trim() {
            "s" => Duration::from_secs(1),
            "m" => Duration::from_secs(60),
            "h" => Duration::from_secs(3600),
            other => parse_duration(other).ok_or(RateError(RULE))?,
        };
        Rate::new(count, period).ok_or(RateError(RULE))
    }
}

/// `"500ms"`, `"10s"`, `"2m"`, `"1h"`.
fn parse_duration(text: &str) -> Option<Duration> {
    let digits = text.trim_end_matches(|c: char| c.is_ascii_alphabetic());
    let n: u64 = digits.parse().ok()?;
    match &text[digits.len()..] {
        "ms" => Some(Duration::from_millis(n)),
        "s" => Some(Duration::from_secs(n)),
        "m" => Some(Duration::from_secs(n.checked_mul(60)?)),
        "h" => Some(Duration::from_secs(n.checked_mul(3600)?)),
        _ => None,
    }
}

impl fmt::Display for Rate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{:?}", self.count, self.period)
    }
}
