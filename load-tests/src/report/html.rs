//! `report.html`: one self-contained page (inline SVG charts drawn here, no script, no
//! external resources), so a report directory can be archived or mailed as it is.

use std::fmt::Write as _;

use super::{Report, Second};

impl Report {
    /// The HTML page (self-contained).
    pub fn html(&self) -> String {
        let mut s = String::new();
        let l = &self.latency;
        let _ = write!(
            s,
            "<!doctype html><html><head><meta charset=\"utf-8\"><title>pitboss-load {name}</title>\
             <style>body{{font-family:system-ui,sans-serif;margin:2em;color:#222}}\
             table{{border-collapse:collapse}}td,th{{border:1px solid #ccc;padding:.3em .6em;text-align:right}}\
             th{{background:#f4f4f4}}.ok{{color:#070}}.fail{{color:#b00;font-weight:bold}}\
             pre{{background:#f7f7f7;padding:1em}}</style></head><body>\
             <h1>pitboss-load: {name}</h1><p>{desc}</p>",
            name = esc(&self.scenario),
            desc = esc(&self.description)
        );
        let _ = write!(
            s,
            "<table><tr><th>events</th><th>offered ev/s</th><th>achieved ev/s</th>\
             <th>p50 ms</th><th>p90 ms</th><th>p99 ms</th><th>p99.9 ms</th><th>max ms</th>\
             <th>accounting</th></tr><tr><td>{}</td><td>{:.0}</td><td>{:.0}</td><td>{:.2}</td>\
             <td>{:.2}</td><td>{:.2}</td><td>{:.2}</td><td>{:.2}</td><td class=\"{}\">{}</td></tr></table>",
            self.events,
            self.offered_events_per_sec,
            self.achieved_events_per_sec,
            l.p50_ms,
            l.p90_ms,
            l.p99_ms,
            l.p999_ms,
            l.max_ms,
            if self.accounting.ok { "ok" } else { "fail" },
            if self.accounting.ok { "OK" } else { "FAILED" }
        );
        s.push_str("<h2>Latency by percentile</h2>");
        s.push_str(&self.svg_percentiles());
        s.push_str("<h2>Throughput over time</h2>");
        s.push_str(&self.svg_timeline());
        s.push_str("<h2>p99 latency per second</h2>");
        s.push_str(&self.svg_p99());
        s.push_str(&self.section(
            "CPU cores per second",
            &[
                ("pitboss", "#1f6fd1", &|t: &Second| t.pitboss_cpu_cores),
                ("broker", "#999999", &|t: &Second| t.broker_cpu_cores),
            ],
            "cores",
        ));
        s.push_str(&self.section(
            "pitboss's consumer lag and events in flight per second",
            &[
                ("input topic", "#d17a1f", &|t: &Second| {
                    t.input_lag_messages.map(|n| n as f64)
                }),
                ("internal topics", "#6a3fb0", &|t: &Second| {
                    t.internal_lag_messages.map(|n| n as f64)
                }),
                ("in flight in pitboss", "#2a8f4a", &|t: &Second| {
                    t.inflight_events.map(|n| n as f64)
                }),
            ],
            "messages",
        ));
        s.push_str(&self.section(
            "pitboss resident memory per second",
            &[("RSS MiB", "#2a8f4a", &|t: &Second| {
                t.rss_bytes.map(|b| b as f64 / (1024.0 * 1024.0))
            })],
            "MiB",
        ));
        s.push_str(&self.section(
            "pitboss live entities per second",
            &[(
                "live actors (machine, wallet, pool, hall)",
                "#6a3fb0",
                &|t: &Second| t.live_entities.map(|n| n as f64),
            )],
            "entities",
        ));
        let _ = write!(s, "<h2>Summary</h2><pre>{}</pre>", esc(&self.table()));
        s.push_str("</body></html>\n");
        s
    }

    fn svg_percentiles(&self) -> String {
        // x: log10(1 / (1 - p)), the usual HdrHistogram plot; 100 % drawn at 99.9999 %.
        let pts: Vec<(f64, f64)> = self
            .percentile_curve
            .iter()
            .map(|(p, ms)| {
                let q = (p / 100.0).min(0.999_999);
                ((1.0 / (1.0 - q)).log10(), *ms)
            })
            .collect();
        let labels = [
            (0.0, "0%"),
            (1.0, "90%"),
            (2.0, "99%"),
            (3.0, "99.9%"),
            (4.0, "99.99%"),
            (5.0, "99.999%"),
            (6.0, "max"),
        ];
        chart(
            &[("latency ms", "#1f6fd1", pts)],
            6.0,
            &labels,
            "percentile",
            "ms",
        )
    }

    fn svg_timeline(&self) -> String {
        self.svg_lines(
            &[
                ("offered ev/s", "#999999", &|t: &Second| {
                    Some(t.offered_events)
                }),
                ("sent ev/s", "#1f6fd1", &|t: &Second| {
                    Some(t.sent_events as f64)
                }),
                ("output records/s", "#d17a1f", &|t: &Second| {
                    Some(t.outputs as f64)
                }),
            ],
            "per second",
        )
    }

    /// A titled chart of per-second figures; nothing when none of its lines has a value
    /// (the run did not measure them).
    fn section(&self, title: &str, lines: &[PerSecond<'_>], yname: &str) -> String {
        let series = self.series(lines);
        if series.is_empty() {
            return String::new();
        }
        format!("<h2>{title}</h2>{}", self.per_second_chart(&series, yname))
    }

    /// Per-second figures of the timeline in one chart (lines without any value left
    /// out, and each line's seconds without a value).
    fn svg_lines(&self, lines: &[PerSecond<'_>], yname: &str) -> String {
        self.per_second_chart(&self.series(lines), yname)
    }

    /// The points of each line that has any (its seconds with a value).
    fn series<'a>(&self, lines: &[PerSecond<'a>]) -> Vec<Series<'a>> {
        lines
            .iter()
            .map(|(name, color, value)| {
                let pts = self
                    .timeline
                    .iter()
                    .filter_map(|t| value(t).map(|v| (t.second as f64, v)))
                    .collect();
                (*name, *color, pts)
            })
            .filter(|(_, _, pts): &Series<'_>| !pts.is_empty())
            .collect()
    }

    fn per_second_chart(&self, series: &[Series<'_>], yname: &str) -> String {
        let xmax = (self.timeline.len().max(1)) as f64;
        let labels = x_labels(xmax);
        let labels: Vec<(f64, &str)> = labels.iter().map(|(x, s)| (*x, s.as_str())).collect();
        chart(series, xmax, &labels, "seconds", yname)
    }

    fn svg_p99(&self) -> String {
        self.svg_lines(
            &[
                ("p99 ms (by arrival second)", "#b0306a", &|t: &Second| {
                    t.p99_ms
                }),
                (
                    "broker alone, p99 ms (--measure-broker)",
                    "#999999",
                    &|t: &Second| t.broker_p99_ms,
                ),
            ],
            "ms",
        )
    }
}

fn x_labels(xmax: f64) -> Vec<(f64, String)> {
    let step = nice_step(xmax / 6.0);
    let mut v = Vec::new();
    let mut x = 0.0;
    while x <= xmax + 1e-9 {
        v.push((x, format!("{x:.0}")));
        x += step;
    }
    v
}

fn nice_step(raw: f64) -> f64 {
    nice_step_f(raw).max(1.0)
}

fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// A chart's line: name, colour, points.
type Series<'a> = (&'a str, &'a str, Vec<(f64, f64)>);

/// A line of per-second values: name, colour, the value of a second (if it has one).
type PerSecond<'a> = (&'a str, &'a str, &'a dyn Fn(&Second) -> Option<f64>);

/// A line chart as inline SVG.
fn chart(
    series: &[Series<'_>],
    xmax: f64,
    xlabels: &[(f64, &str)],
    xname: &str,
    yname: &str,
) -> String {
    let (w, h, ml, mr, mt, mb) = (800.0, 320.0, 70.0, 20.0, 20.0, 50.0);
    let ymax_raw = series
        .iter()
        .flat_map(|s| s.2.iter().map(|p| p.1))
        .fold(0.0f64, f64::max);
    let ystep = nice_step_f(ymax_raw / 5.0);
    let ymax = ((ymax_raw / ystep).ceil() * ystep).max(ystep);
    let xmax = xmax.max(1e-9);
    let px = |x: f64| ml + (x / xmax) * (w - ml - mr);
    let py = |y: f64| mt + (1.0 - y / ymax) * (h - mt - mb);
    let mut s = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{w}\" height=\"{h}\" \
         viewBox=\"0 0 {w} {h}\" font-family=\"sans-serif\" font-size=\"11\">\
         <rect x=\"0\" y=\"0\" width=\"{w}\" height=\"{h}\" fill=\"#fff\"/>"
    );
    let mut y = 0.0;
    while y <= ymax + 1e-9 {
        let _ = write!(
            s,
            "<line x1=\"{ml}\" x2=\"{}\" y1=\"{py:.1}\" y2=\"{py:.1}\" stroke=\"#eee\"/>\
             <text x=\"{}\" y=\"{:.1}\" text-anchor=\"end\">{}</text>",
            w - mr,
            ml - 5.0,
            py(y) + 4.0,
            fmt_num(y),
            py = py(y)
        );
        y += ystep;
    }
    for (x, label) in xlabels {
        let _ = write!(
            s,
            "<line x1=\"{px:.1}\" x2=\"{px:.1}\" y1=\"{mt}\" y2=\"{}\" stroke=\"#eee\"/>\
             <text x=\"{px:.1}\" y=\"{}\" text-anchor=\"middle\">{}</text>",
            h - mb,
            h - mb + 15.0,
            esc(label),
            px = px(*x)
        );
    }
    let _ = write!(
        s,
        "<line x1=\"{ml}\" x2=\"{ml}\" y1=\"{mt}\" y2=\"{}\" stroke=\"#333\"/>\
         <line x1=\"{ml}\" x2=\"{}\" y1=\"{}\" y2=\"{}\" stroke=\"#333\"/>\
         <text x=\"{}\" y=\"{}\" text-anchor=\"middle\">{}</text>\
         <text x=\"15\" y=\"{}\" transform=\"rotate(-90 15 {})\" text-anchor=\"middle\">{}</text>",
        h - mb,
        w - mr,
        h - mb,
        h - mb,
        (ml + w - mr) / 2.0,
        h - 12.0,
        esc(xname),
        (mt + h - mb) / 2.0,
        (mt + h - mb) / 2.0,
        esc(yname)
    );
    for (i, (name, color, pts)) in series.iter().enumerate() {
        if !pts.is_empty() {
            let d: Vec<String> = pts
                .iter()
                .map(|(x, y)| format!("{:.1},{:.1}", px(*x), py(*y)))
                .collect();
            let _ = write!(
                s,
                "<polyline fill=\"none\" stroke=\"{color}\" stroke-width=\"2\" points=\"{}\"/>",
                d.join(" ")
            );
            if pts.len() <= 20 {
                for (x, y) in pts {
                    let _ = write!(
                        s,
                        "<circle cx=\"{:.1}\" cy=\"{:.1}\" r=\"3\" fill=\"{color}\"><title>{}</title></circle>",
                        px(*x),
                        py(*y),
                        fmt_num(*y)
                    );
                }
            }
        }
        let ly = mt + 14.0 * i as f64 + 5.0;
        let _ = write!(
            s,
            "<rect x=\"{}\" y=\"{:.1}\" width=\"12\" height=\"3\" fill=\"{color}\"/>\
             <text x=\"{}\" y=\"{:.1}\">{}</text>",
            ml + 10.0,
            ly,
            ml + 26.0,
            ly + 4.0,
            esc(name)
        );
    }
    s.push_str("</svg>");
    s
}

/// A 1, 2 or 5 times a power of ten at or above `raw` (1 for nothing sensible).
fn nice_step_f(raw: f64) -> f64 {
    if raw <= 0.0 || !raw.is_finite() {
        return 1.0;
    }
    let mag = 10f64.powf(raw.log10().floor());
    let f = raw / mag;
    let n = if f <= 1.0 {
        1.0
    } else if f <= 2.0 {
        2.0
    } else if f <= 5.0 {
        5.0
    } else {
        10.0
    };
    n * mag
}

fn fmt_num(v: f64) -> String {
    if v.abs() >= 100.0 || v == v.trunc() {
        format!("{v:.0}")
    } else if v.abs() >= 1.0 {
        format!("{v:.1}")
    } else {
        format!("{v:.3}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn charts_are_self_contained_svg() {
        let s = chart(
            &[("a", "#000", vec![(0.0, 1.0), (1.0, 2.5)])],
            1.0,
            &[(0.0, "0"), (1.0, "1")],
            "x",
            "y",
        );
        assert!(s.starts_with("<svg") && s.ends_with("</svg>"));
        assert!(!s.contains("href"), "no external resources");
        assert!(s.contains("polyline"));
    }
}
