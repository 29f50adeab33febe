//! The figures, in the line formats the baselines print too.

/// Nearest-rank percentile `p` (0..=100) of sorted `samples`: the value at 1-based rank
/// `ceil(p / 100 * n)`.
pub(crate) fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let rank = ((p / 100.0) * sorted.len() as f64).ceil().max(1.0) as usize;
    sorted[rank.min(sorted.len()) - 1]
}

/// `oneway payload=P n=N secs=S msgs_per_s=R[ mb_per_s=M]` (the last for payloads over 16
/// bytes) and the extra fields.
pub(crate) fn oneway(payload: usize, n: u64, secs: f64, extra: &str) -> String {
    let rate = n as f64 / secs;
    let mb = if payload > 16 {
        format!(" mb_per_s={:.2}", rate * payload as f64 / 1e6)
    } else {
        String::new()
    };
    format!("oneway payload={payload} n={n} secs={secs:.3} msgs_per_s={rate:.0}{mb}{extra}")
}

/// `pingpong n=N mean_us=A p50_us=B p99_us=C`.
pub(crate) fn pingpong(mut micros: Vec<f64>, extra: &str) -> String {
    micros.sort_by(f64::total_cmp);
    let mean = micros.iter().sum::<f64>() / micros.len().max(1) as f64;
    format!(
        "pingpong n={} mean_us={mean:.2} p50_us={:.2} p99_us={:.2}{extra}",
        micros.len(),
        percentile(&micros, 50.0),
        percentile(&micros, 99.0)
    )
}

/// `local payload=P n=N msgs_per_s=R`.
pub(crate) fn local(payload: usize, n: u64, secs: f64, extra: &str) -> String {
    format!(
        "local payload={payload} n={n} msgs_per_s={:.0}{extra}",
        n as f64 / secs
    )
}

/// `dataconn bytes=B secs=S mb_per_s=M raw_tcp_mb_per_s=R ratio=X` (ratio: the data
/// connection's rate over raw TCP's).
pub(crate) fn dataconn(bytes: u64, secs: f64, raw_secs: f64, extra: &str) -> String {
    let (rate, raw) = (bytes as f64 / secs / 1e6, bytes as f64 / raw_secs / 1e6);
    format!(
        "dataconn bytes={bytes} secs={secs:.3} mb_per_s={rate:.0} raw_tcp_mb_per_s={raw:.0} ratio={:.2}{extra}",
        rate / raw
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nearest_rank_percentiles() {
        let v: Vec<f64> = (1..=100).map(f64::from).collect();
        assert_eq!(percentile(&v, 50.0), 50.0);
        assert_eq!(percentile(&v, 99.0), 99.0);
        assert_eq!(percentile(&[7.0], 99.0), 7.0);
    }

    #[test]
    fn line_formats() {
        assert_eq!(
            oneway(1024, 10, 2.0, ""),
            "oneway payload=1024 n=10 secs=2.000 msgs_per_s=5 mb_per_s=0.01"
        );
        assert_eq!(
            oneway(16, 10, 2.0, " x=1"),
            "oneway payload=16 n=10 secs=2.000 msgs_per_s=5 x=1"
        );
        assert_eq!(
            pingpong(vec![2.0, 1.0], ""),
            "pingpong n=2 mean_us=1.50 p50_us=1.00 p99_us=2.00"
        );
        assert_eq!(local(16, 4, 2.0, ""), "local payload=16 n=4 msgs_per_s=2");
        assert_eq!(
            dataconn(4_000_000, 2.0, 1.0, ""),
            "dataconn bytes=4000000 secs=2.000 mb_per_s=2 raw_tcp_mb_per_s=4 ratio=0.50"
        );
    }
}
