//! A deterministic random byte generator seeded by the caller (SHAKE256 as a DRBG).

use sha3::digest::{ExtendableOutput, Update, XofReader};
use sha3::Shake256;

/// Random bytes derived from a caller-supplied seed.
///
/// The node core never asks the operating system for randomness: the driver passes a seed
/// (from the OS in production, fixed in simulations) and everything random (nonces, port
/// name prefixes, back-off jitter) is drawn from this stream.
///
/// ```
/// use aemp_proto::node::Rng;
/// let mut a = Rng::new(&[7; 32]);
/// let mut b = Rng::new(&[7; 32]);
/// assert_eq!(a.next_u64(), b.next_u64());
/// ```
#[derive(Clone, Debug)]
pub struct Rng {
    seed: [u8; 32],
    counter: u64,
}

impl Rng {
    /// A generator whose whole output is determined by `seed`.
    ///
    /// ```
    /// # use aemp_proto::node::Rng;
    /// let _ = Rng::new(b"any seed bytes");
    /// ```
    pub fn new(seed: &[u8]) -> Rng {
        let mut hasher = Shake256::default();
        hasher.update(b"aemp-rs rng v1");
        hasher.update(seed);
        let mut key = [0u8; 32];
        hasher.finalize_xof().read(&mut key);
        Rng {
            seed: key,
            counter: 0,
        }
    }

    /// Fills `out` with random bytes.
    ///
    /// ```
    /// # use aemp_proto::node::Rng;
    /// let mut buf = [0u8; 66];
    /// Rng::new(&[1]).fill(&mut buf);
    /// assert!(buf.iter().any(|&b| b != 0));
    /// ```
    pub fn fill(&mut self, out: &mut [u8]) {
        let mut hasher = Shake256::default();
        hasher.update(&self.seed);
        hasher.update(&self.counter.to_le_bytes());
        self.counter += 1;
        hasher.finalize_xof().read(out);
    }

    /// A random `u64`.
    ///
    /// ```
    /// # use aemp_proto::node::Rng;
    /// let mut r = Rng::new(&[2]);
    /// assert_ne!(r.next_u64(), r.next_u64());
    /// ```
    pub fn next_u64(&mut self) -> u64 {
        let mut b = [0u8; 8];
        self.fill(&mut b);
        u64::from_le_bytes(b)
    }

    /// A random float in `[lo, hi)`.
    ///
    /// ```
    /// # use aemp_proto::node::Rng;
    /// let x = Rng::new(&[3]).range_f64(0.6, 1.2);
    /// assert!((0.6..1.2).contains(&x));
    /// ```
    pub fn range_f64(&mut self, lo: f64, hi: f64) -> f64 {
        let unit = (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64;
        lo + (hi - lo) * unit
    }

    /// A random alphanumeric string of `len` characters.
    ///
    /// ```
    /// # use aemp_proto::node::Rng;
    /// let s = Rng::new(&[4]).alnum(10);
    /// assert_eq!(s.len(), 10);
    /// assert!(s.chars().all(|c| c.is_ascii_alphanumeric()));
    /// ```
    pub fn alnum(&mut self, len: usize) -> String {
        const CHARS: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
        let mut bytes = vec![0u8; len];
        self.fill(&mut bytes);
        bytes
            .iter()
            .map(|b| CHARS[*b as usize % CHARS.len()] as char)
            .collect()
    }
}
