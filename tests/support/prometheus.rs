//! Reading a `/metrics` answer as Prometheus would: the text format parsed with
//! `prometheus-parse`, and the value of one series.

#![allow(dead_code)] // each test binary uses a different part of this module

use prometheus_parse::{Scrape, Value as Sample};

/// The text format, parsed (panics when it does not parse).
pub fn parse(text: &str) -> Scrape {
    Scrape::parse(text.lines().map(|line| Ok(line.to_string()))).expect("the text format parses")
}

/// The samples of `name` whose labels include `labels`.
pub fn samples<'a>(
    scrape: &'a Scrape,
    name: &'a str,
    labels: &'a [(&str, &str)],
) -> impl Iterator<Item = &'a Sample> + 'a {
    scrape
        .samples
        .iter()
        .filter(move |s| s.metric == name && labels.iter().all(|(k, v)| s.labels.get(k) == Some(v)))
        .map(|s| &s.value)
}

/// A counter's or gauge's value (0 when it has not been recorded yet).
pub fn value(scrape: &Scrape, name: &str, labels: &[(&str, &str)]) -> f64 {
    samples(scrape, name, labels)
        .map(|sample| match sample {
            Sample::Counter(v) | Sample::Gauge(v) | Sample::Untyped(v) => *v,
            other => panic!("{name} is not a counter or gauge: {other:?}"),
        })
        .sum()
}

/// How many observations a histogram holds (its `+Inf` bucket).
pub fn observations(scrape: &Scrape, name: &str, labels: &[(&str, &str)]) -> f64 {
    samples(scrape, name, labels)
        .map(|sample| match sample {
            Sample::Histogram(buckets) => buckets
                .iter()
                .find(|b| b.less_than.is_infinite())
                .map_or(0.0, |b| b.count),
            other => panic!("{name} is not a histogram: {other:?}"),
        })
        .sum()
}
