//! Reads `/metrics` the way a Prometheus scraper does (text format 0.0.4), strictly: a test that
//! scrapes a node checks the whole text is well formed, then looks values up by series.

use std::collections::{HashMap, HashSet};

/// The samples of a scrape: `name{labels}` (as written) → value.
pub type Samples = HashMap<String, f64>;

/// Parses `text`, refusing what a scraper would refuse or misread: a sample before any `# TYPE`
/// line or outside the family of the last one (a counter's samples end in `_total`, a histogram's in
/// `_bucket`/`_sum`/`_count`), a bad metric or label name, a label value not quoted, a value that is
/// not a number, a family declared twice, a series written twice.
pub fn parse(text: &str) -> Result<Samples, String> {
    let mut samples = Samples::new();
    let mut families = HashSet::new();
    let mut family: Option<(&str, &str)> = None;
    for (i, line) in text.lines().enumerate() {
        let at = i + 1;
        let fail = |what: &str| Err(format!("line {at}: {what}: {line:?}"));
        if let Some(rest) = line.strip_prefix("# TYPE ") {
            let (name, kind) = rest.split_once(' ').unwrap_or((rest, ""));
            if !name_ok(name) {
                return fail("bad metric name");
            }
            if !["counter", "gauge", "histogram", "summary", "untyped"].contains(&kind) {
                return fail("bad type");
            }
            if !families.insert(name) {
                return fail("family declared twice");
            }
            family = Some((name, kind));
            continue;
        }
        if let Some(rest) = line.strip_prefix("# HELP ") {
            if !name_ok(rest.split(' ').next().unwrap_or("")) {
                return fail("bad metric name");
            }
            continue;
        }
        if line.is_empty() || line.starts_with('#') {
            return fail("not a sample");
        }
        let Some((series, value)) = line.rsplit_once(' ') else {
            return fail("no value");
        };
        let value = match value {
            "+Inf" => f64::INFINITY,
            "-Inf" => f64::NEG_INFINITY,
            v => match v.parse::<f64>() {
                Ok(v) => v,
                Err(_) => return fail("value is not a number"),
            },
        };
        let (name, labels) = series.split_at(series.find('{').unwrap_or(series.len()));
        if !name_ok(name) {
            return fail("bad metric name");
        }
        if !labels.is_empty() {
            let Some(inner) = labels.strip_prefix('{').and_then(|l| l.strip_suffix('}')) else {
                return fail("bad labels");
            };
            for pair in inner.split("\",") {
                let Some((key, quoted)) = pair.split_once('=') else {
                    return fail("label without a value");
                };
                if !name_ok(key) || !quoted.starts_with('"') {
                    return fail("bad label");
                }
            }
        }
        let Some((family_name, kind)) = family else {
            return fail("sample before any # TYPE");
        };
        let suffixes: &[&str] = match kind {
            "histogram" => &["_bucket", "_sum", "_count"],
            "summary" => &["", "_sum", "_count"],
            _ => &[""],
        };
        if !suffixes
            .iter()
            .any(|s| name.strip_suffix(s) == Some(family_name))
        {
            return fail(&format!("not of family {family_name} ({kind})"));
        }
        if kind == "counter" && !name.ends_with("_total") {
            return fail("a counter's name does not end in _total");
        }
        if samples.insert(series.to_owned(), value).is_some() {
            return fail("series written twice");
        }
    }
    Ok(samples)
}

fn name_ok(name: &str) -> bool {
    !name.is_empty()
        && !name.starts_with(|c: char| c.is_ascii_digit())
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == ':')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_counters_gauges_and_histograms() {
        let samples = parse(
            "# HELP a_total A.\n# TYPE a_total counter\na_total{k=\"v\",l=\"w\"} 2\n\
             # TYPE g gauge\ng 1.5\n\
             # TYPE h_seconds histogram\nh_seconds_sum 0.5\nh_seconds_count 1\n\
             h_seconds_bucket{le=\"0.1\"} 0\nh_seconds_bucket{le=\"+Inf\"} 1\n",
        )
        .unwrap();
        assert_eq!(samples["a_total{k=\"v\",l=\"w\"}"], 2.0);
        assert_eq!(samples["g"], 1.5);
        assert_eq!(samples["h_seconds_bucket{le=\"+Inf\"}"], 1.0);
        assert_eq!(samples.len(), 6);
    }

    #[test]
    fn refuses_what_a_scraper_would() {
        for bad in [
            "a 1\n",
            "# TYPE a counter\na 1\n",
            "# TYPE a gauge\nb 1\n",
            "# TYPE a gauge\na one\n",
            "# TYPE a gauge\n# TYPE a gauge\n",
            "# TYPE a gauge\na 1\na 2\n",
            "# TYPE a gauge\na{k=v} 1\n",
            "# TYPE a gauge\na{k=\"v\" 1\n",
            "# TYPE 1a gauge\n",
            "# TYPE a meter\n",
            "# TYPE a gauge\n\n",
        ] {
            assert!(parse(bad).is_err(), "accepted {bad:?}");
        }
    }
}
