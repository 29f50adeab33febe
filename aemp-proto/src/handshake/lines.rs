//! Splitting the pre-authentication byte stream into length-limited lines.

use super::error::HandshakeError;

/// Buffers received bytes and hands out LF- (or CR LF-) terminated lines of at most
/// `max_line` bytes including the terminator.
#[derive(Debug)]
pub(crate) struct LineReader {
    buf: Vec<u8>,
    max_line: usize,
}

impl LineReader {
    pub(crate) fn new(max_line: usize) -> LineReader {
        LineReader {
            buf: Vec::new(),
            max_line,
        }
    }

    pub(crate) fn push(&mut self, data: &[u8]) {
        self.buf.extend_from_slice(data);
    }

    /// The next complete line without its terminator, `Ok(None)` if it has not ended yet.
    /// A line that is, or can only become, longer than the limit is an error at once.
    pub(crate) fn next_line(&mut self) -> Result<Option<Vec<u8>>, HandshakeError> {
        let too_long = HandshakeError::LineTooLong {
            limit: self.max_line,
        };
        let Some(lf) = self.buf.iter().position(|&b| b == b'\n') else {
            // Unterminated: with its LF it would be at least one byte longer.
            return if self.buf.len() >= self.max_line {
                Err(too_long)
            } else {
                Ok(None)
            };
        };
        if lf + 1 > self.max_line {
            return Err(too_long);
        }
        let mut line: Vec<u8> = self.buf.drain(..=lf).collect();
        line.pop();
        if line.last() == Some(&b'\r') {
            line.pop();
        }
        Ok(Some(line))
    }

    /// Everything buffered after the last line handed out.
    pub(crate) fn take_rest(&mut self) -> Vec<u8> {
        std::mem::take(&mut self.buf)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_lf_and_crlf_lines_across_pushes() {
        let mut r = LineReader::new(16);
        r.push(b"ab\r\ncd");
        assert_eq!(r.next_line().unwrap(), Some(b"ab".to_vec()));
        assert_eq!(r.next_line().unwrap(), None);
        r.push(b"\nrest");
        assert_eq!(r.next_line().unwrap(), Some(b"cd".to_vec()));
        assert_eq!(r.take_rest(), b"rest");
    }

    #[test]
    fn limit_includes_the_terminator() {
        let mut r = LineReader::new(4);
        r.push(b"abc\n");
        assert_eq!(r.next_line().unwrap(), Some(b"abc".to_vec()));
        r.push(b"abcd\n");
        assert!(r.next_line().is_err());
    }

    #[test]
    fn unterminated_line_fails_as_soon_as_it_cannot_fit() {
        let mut r = LineReader::new(4);
        r.push(b"abc");
        assert_eq!(r.next_line().unwrap(), None);
        r.push(b"d");
        assert!(r.next_line().is_err());
    }
}
