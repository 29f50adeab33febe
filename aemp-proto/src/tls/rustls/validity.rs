//! The validity period of a certificate, read from its DER encoding.
//!
//! webpki checks the dates of every certificate on a chain it builds, but it refuses a
//! CA certificate as the peer's own certificate, and the shared self-signed certificate of
//! `aemp gencert` (and of the original's `openssl req -x509`) is such a CA certificate.
//! The verifier accepts that certificate by exact match instead, and checks its dates with
//! this module: it reads only `tbsCertificate.validity` (RFC 5280 4.1), nothing else.

use rustls::pki_types::{CertificateDer, UnixTime};
use rustls::{CertificateError, Error};

/// DER tags met on the way to the validity field.
const SEQUENCE: u8 = 0x30;
const INTEGER: u8 = 0x02;
const VERSION: u8 = 0xa0;
const UTC_TIME: u8 = 0x17;
const GENERALIZED_TIME: u8 = 0x18;

/// When a certificate is valid, in seconds since the Unix epoch (both ends included).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Validity {
    not_before: u64,
    not_after: u64,
}

impl Validity {
    /// Reads the validity period of a certificate; the text names what is malformed.
    pub(super) fn of(cert: &CertificateDer<'_>) -> Result<Validity, String> {
        let malformed = |what: &str| format!("malformed certificate: {what}");
        let (cert, _) = expect(cert, SEQUENCE).ok_or_else(|| malformed("no outer SEQUENCE"))?;
        let (tbs, _) = expect(cert, SEQUENCE).ok_or_else(|| malformed("no tbsCertificate"))?;
        let mut rest = tbs;
        if rest.first() == Some(&VERSION) {
            rest = tlv(rest).ok_or_else(|| malformed("bad version"))?.2;
        }
        let (_, rest) = expect(rest, INTEGER).ok_or_else(|| malformed("no serial number"))?;
        let (_, rest) =
            expect(rest, SEQUENCE).ok_or_else(|| malformed("no signature algorithm"))?;
        let (_, rest) = expect(rest, SEQUENCE).ok_or_else(|| malformed("no issuer"))?;
        let (validity, _) = expect(rest, SEQUENCE).ok_or_else(|| malformed("no validity"))?;
        let (not_before, rest) = time(validity).ok_or_else(|| malformed("bad notBefore"))?;
        let (not_after, rest) = time(rest).ok_or_else(|| malformed("bad notAfter"))?;
        if !rest.is_empty() {
            return Err(malformed("trailing bytes in validity"));
        }
        Ok(Validity {
            not_before,
            not_after,
        })
    }

    /// Whether `now` lies in the period, as the error webpki would give if not.
    pub(super) fn check(&self, now: UnixTime) -> Result<(), Error> {
        let at = now.as_secs();
        if at < self.not_before {
            return Err(CertificateError::NotValidYetContext {
                time: now,
                not_before: UnixTime::since_unix_epoch(secs(self.not_before)),
            }
            .into());
        }
        if at > self.not_after {
            return Err(CertificateError::ExpiredContext {
                time: now,
                not_after: UnixTime::since_unix_epoch(secs(self.not_after)),
            }
            .into());
        }
        Ok(())
    }
}

fn secs(s: u64) -> std::time::Duration {
    std::time::Duration::from_secs(s)
}

/// Splits one DER element off `input`: its tag, its contents and what follows it.
fn tlv(input: &[u8]) -> Option<(u8, &[u8], &[u8])> {
    let (&tag, rest) = input.split_first()?;
    let (&first, rest) = rest.split_first()?;
    let (len, rest) = if first < 0x80 {
        (usize::from(first), rest)
    } else {
        let n = usize::from(first & 0x7f);
        if n == 0 || n > 4 || rest.len() < n {
            return None;
        }
        let (bytes, rest) = rest.split_at(n);
        let len = bytes
            .iter()
            .fold(0usize, |acc, &b| (acc << 8) | usize::from(b));
        (len, rest)
    };
    (rest.len() >= len).then(|| (tag, &rest[..len], &rest[len..]))
}

/// The contents of the next element if it has tag `tag`, and what follows it.
fn expect(input: &[u8], tag: u8) -> Option<(&[u8], &[u8])> {
    let (t, contents, rest) = tlv(input)?;
    (t == tag).then_some((contents, rest))
}

/// Reads a UTCTime (`YYMMDDHHMMSSZ`, years 1950–2049) or GeneralizedTime
/// (`YYYYMMDDHHMMSSZ`) as seconds since the Unix epoch.
fn time(input: &[u8]) -> Option<(u64, &[u8])> {
    let (tag, text, rest) = tlv(input)?;
    let (year, text) = match (tag, text.len()) {
        (UTC_TIME, 13) => {
            let yy = digits(&text[..2])?;
            (if yy >= 50 { 1900 + yy } else { 2000 + yy }, &text[2..])
        }
        (GENERALIZED_TIME, 15) => (digits(&text[..4])?, &text[4..]),
        _ => return None,
    };
    if text[10] != b'Z' {
        return None;
    }
    let [month, day, hour, minute, second] = [0, 2, 4, 6, 8].map(|i| digits(&text[i..i + 2]));
    let (month, day, hour, minute, second) = (month?, day?, hour?, minute?, second?);
    if !(1..=12).contains(&month)
        || !(1..=31).contains(&day)
        || hour > 23
        || minute > 59
        || second > 59
    {
        return None;
    }
    let days = days_since_epoch(year, month, day)?;
    Some((days * 86_400 + hour * 3600 + minute * 60 + second, rest))
}

/// ASCII decimal digits as a number.
fn digits(text: &[u8]) -> Option<u64> {
    text.iter().try_fold(0u64, |acc, &c| {
        c.is_ascii_digit().then(|| acc * 10 + u64::from(c - b'0'))
    })
}

/// Days from 1970-01-01 to the given date of the proleptic Gregorian calendar; `None`
/// before 1970 (no certificate we accept starts or ends that early).
fn days_since_epoch(year: u64, month: u64, day: u64) -> Option<u64> {
    if year < 1970 {
        return None;
    }
    // Count years from March, so that the leap day is the last day of a year.
    let (y, m) = if month <= 2 {
        (year - 1, month + 9)
    } else {
        (year, month - 3)
    };
    let era_days = |y: u64| y * 365 + y / 4 - y / 100 + y / 400;
    let days = era_days(y) + (153 * m + 2) / 5 + day - 1;
    // 1970-01-01 is day 306 of the year that began in March 1969.
    Some(days - (era_days(1969) + 306))
}

#[cfg(test)]
mod tests {
    use super::*;
    use rcgen::{date_time_ymd, CertificateParams, KeyPair};

    fn cert(from: (i32, u8, u8), to: (i32, u8, u8)) -> CertificateDer<'static> {
        let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
        params.not_before = date_time_ymd(from.0, from.1, from.2);
        params.not_after = date_time_ymd(to.0, to.1, to.2);
        params
            .self_signed(&KeyPair::generate().unwrap())
            .unwrap()
            .der()
            .clone()
    }

    fn at(secs: u64) -> UnixTime {
        UnixTime::since_unix_epoch(std::time::Duration::from_secs(secs))
    }

    #[test]
    fn dates_of_utc_and_generalized_time() {
        // 2049 is the last UTCTime year; 2050 and later are GeneralizedTime.
        let v = Validity::of(&cert((2000, 3, 1), (2050, 1, 1))).unwrap();
        assert_eq!(v.not_before, 951_868_800);
        assert_eq!(v.not_after, 2_524_608_000);
        let v = Validity::of(&cert((1975, 1, 1), (4096, 1, 1))).unwrap();
        assert_eq!(v.not_before, 157_766_400);
        assert_eq!(v.not_after, 67_090_118_400);
    }

    #[test]
    fn check_names_expired_and_not_yet_valid() {
        let v = Validity::of(&cert((2000, 1, 1), (2001, 1, 1))).unwrap();
        assert_eq!(v.check(at(v.not_before)), Ok(()));
        assert_eq!(v.check(at(v.not_after)), Ok(()));
        let early = v.check(at(v.not_before - 1)).unwrap_err();
        assert!(matches!(
            early,
            Error::InvalidCertificate(CertificateError::NotValidYetContext { .. })
        ));
        let late = v.check(at(v.not_after + 1)).unwrap_err();
        assert!(matches!(
            late,
            Error::InvalidCertificate(CertificateError::ExpiredContext { .. })
        ));
    }

    #[test]
    fn malformed_input_is_named() {
        let good = cert((2000, 1, 1), (2001, 1, 1));
        assert_eq!(
            Validity::of(&CertificateDer::from(vec![0x30, 0x05, 1])).unwrap_err(),
            "malformed certificate: no outer SEQUENCE"
        );
        for cut in [10, good.len() / 2] {
            let mut bytes = good.to_vec();
            bytes.truncate(cut);
            assert!(Validity::of(&CertificateDer::from(bytes)).is_err());
        }
    }

    #[test]
    fn calendar() {
        assert_eq!(days_since_epoch(1970, 1, 1), Some(0));
        assert_eq!(days_since_epoch(1969, 12, 31), None);
        assert_eq!(days_since_epoch(2000, 2, 29), Some(11_016));
        assert_eq!(days_since_epoch(2024, 3, 1), Some(19_783));
    }
}
