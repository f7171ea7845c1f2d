//! A position in PostgreSQL's write-ahead log (an LSN such as `16/B374D848`): how far a
//! primary has written and a replica has replayed, compared to decide whether a replica shows
//! a given commit.

use std::fmt;
use std::str::FromStr;

/// A WAL position; later positions compare greater.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct WalPosition(pub u64);

impl WalPosition {
    /// Where nothing has been replayed yet.
    pub const START: WalPosition = WalPosition(0);
}

/// Text that is not an LSN.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0:?} is not a WAL position (expected two hexadecimal numbers such as 16/B374D848)")]
pub struct NotAWalPosition(String);

impl FromStr for WalPosition {
    type Err = NotAWalPosition;

    /// Parses PostgreSQL's text form of `pg_lsn`: the high and low 32 bits in hexadecimal.
    fn from_str(text: &str) -> Result<WalPosition, NotAWalPosition> {
        let refuse = || NotAWalPosition(text.to_owned());
        let (high, low) = text.split_once('/').ok_or_else(refuse)?;
        let high = u32::from_str_radix(high, 16).map_err(|_| refuse())?;
        let low = u32::from_str_radix(low, 16).map_err(|_| refuse())?;
        Ok(WalPosition((u64::from(high) << 32) | u64::from(low)))
    }
}

impl fmt::Display for WalPosition {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:X}/{:X}", self.0 >> 32, self.0 & 0xFFFF_FFFF)
    }
}

#[cfg(test)]
mod tests {
    use super::WalPosition;

    #[test]
    fn positions_read_as_postgresql_writes_them_and_order_by_the_log() {
        let early: WalPosition = "0/16B3748".parse().expect("an LSN");
        let late: WalPosition = "16/B374D848".parse().expect("an LSN");
        assert_eq!(late.0, 0x16_B374_D848);
        assert!(early < late);
        assert_eq!(late.to_string(), "16/B374D848");
        assert_eq!(early.to_string(), "0/16B3748");
        for bad in ["", "16", "16/", "/1", "x/1", "1/2/3", "100000000/0"] {
            assert!(bad.parse::<WalPosition>().is_err(), "{bad:?} was accepted");
        }
    }
}
