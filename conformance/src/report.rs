//! Outcomes as people and CI systems read them: text lines, JSON lines, JUnit XML.

use std::fmt::Write as _;
use std::str::FromStr;

use crate::Outcome;

/// How [`line()`] and [`end()`] write outcomes.
///
/// ```
/// use dimse_conformance::report::Format;
///
/// assert_eq!("junit".parse(), Ok(Format::Junit));
/// assert!("xml".parse::<Format>().is_err());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Format {
    /// `PASS name: expected ...; got ... [12 ms]`, a failed scenario's trace indented below
    /// it, then `conform: N passed, M failed`.
    #[default]
    Text,
    /// One JSON object per scenario (`scenario`, `passed`, `skipped`, `expected`, `got`,
    /// `ms`, `trace`), then `{"summary": {"passed", "failed", "skipped"}}`.
    Json,
    /// One JUnit XML document at the end (`testsuite` of `testcase`s, a `failure` holding
    /// the trace), as CI systems read test results.
    Junit,
}

impl FromStr for Format {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "text" => Ok(Format::Text),
            "json" => Ok(Format::Json),
            "junit" => Ok(Format::Junit),
            other => Err(format!("{other:?}: expected text, json or junit")),
        }
    }
}

/// What to print as `outcome` ends (nothing for JUnit, which is written whole at the end).
pub fn line(format: Format, outcome: &Outcome) -> String {
    match format {
        Format::Text => {
            let mut out = format!("{outcome} [{} ms]\n", outcome.duration.as_millis());
            if !outcome.passed {
                for l in &outcome.trace {
                    let _ = writeln!(out, "    {l}");
                }
            }
            out
        }
        Format::Json => {
            let record = serde_json::json!({
                "scenario": outcome.name,
                "passed": outcome.passed,
                "skipped": outcome.skipped,
                "expected": outcome.expected,
                "got": outcome.got,
                "ms": outcome.duration.as_millis() as u64,
                "trace": outcome.trace,
            });
            format!("{record}\n")
        }
        Format::Junit => String::new(),
    }
}

/// What to print after the last outcome: the summary, or the whole JUnit document for the
/// suite `suite` (such as `dimse conform`).
pub fn end(format: Format, suite: &str, outcomes: &[Outcome]) -> String {
    let skipped = outcomes.iter().filter(|o| o.skipped).count();
    let failed = outcomes.iter().filter(|o| !o.passed).count();
    let passed = outcomes.len() - failed - skipped;
    match format {
        Format::Text => crate::summary(outcomes),
        Format::Json => {
            format!(
                "{}\n",
                serde_json::json!({"summary": {"passed": passed, "failed": failed, "skipped": skipped}})
            )
        }
        Format::Junit => junit(suite, outcomes, failed, skipped),
    }
}

fn junit(suite: &str, outcomes: &[Outcome], failed: usize, skipped: usize) -> String {
    let seconds = |o: &Outcome| o.duration.as_secs_f64();
    let total: f64 = outcomes.iter().map(seconds).sum();
    let mut xml = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    let _ = writeln!(
        xml,
        "<testsuites tests=\"{}\" failures=\"{failed}\" time=\"{total:.3}\">",
        outcomes.len()
    );
    let _ = writeln!(
        xml,
        "  <testsuite name=\"{}\" tests=\"{}\" failures=\"{failed}\" errors=\"0\" skipped=\"{skipped}\" time=\"{total:.3}\">",
        escape(suite),
        outcomes.len()
    );
    for o in outcomes {
        let _ = write!(
            xml,
            "    <testcase classname=\"{}\" name=\"{}\" time=\"{:.3}\"",
            escape(suite),
            escape(&o.name),
            seconds(o)
        );
        if o.skipped {
            let _ = writeln!(
                xml,
                ">\n      <skipped message=\"{}\"/>\n    </testcase>",
                escape(&o.got)
            );
            continue;
        }
        if o.passed {
            xml.push_str("/>\n");
            continue;
        }
        let _ = writeln!(
            xml,
            ">\n      <failure message=\"expected {}; got {}\">",
            escape(&o.expected),
            escape(&o.got)
        );
        for l in &o.trace {
            let _ = writeln!(xml, "{}", escape(l));
        }
        xml.push_str("      </failure>\n    </testcase>\n");
    }
    xml.push_str("  </testsuite>\n</testsuites>\n");
    xml
}

/// Text as XML character data or attribute value. Control characters other than tab and
/// newlines are not allowed in XML 1.0 at all: shown as `\u{..}`.
fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\t' | '\n' | '\r' => out.push(c),
            c if c.is_control() => {
                let _ = write!(out, "\\u{{{:x}}}", c as u32);
            }
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn outcome(name: &str, passed: bool) -> Outcome {
        Outcome {
            name: name.into(),
            expected: "A-ASSOCIATE-AC".into(),
            got: "A-ABORT <source 2> & \"more\"".into(),
            passed,
            skipped: false,
            duration: Duration::from_millis(1500),
            trace: vec!["     0 ms #1 → A-ASSOCIATE-RQ".into()],
        }
    }

    #[test]
    fn junit_escapes_and_counts() {
        let xml = end(
            Format::Junit,
            "dimse conform",
            &[outcome("echo", true), outcome("odd\u{1}name", false)],
        );
        assert!(xml.contains("tests=\"2\" failures=\"1\""), "{xml}");
        assert!(xml.contains("name=\"echo\" time=\"1.500\"/>"), "{xml}");
        assert!(xml.contains("name=\"odd\\u{1}name\""), "{xml}");
        assert!(
            xml.contains("got A-ABORT &lt;source 2&gt; &amp; &quot;more&quot;"),
            "{xml}"
        );
        assert!(
            xml.contains("#1 → A-ASSOCIATE-RQ\n      </failure>"),
            "{xml}"
        );
    }

    #[test]
    fn skipped_scenarios_are_counted_apart() {
        let skipped = Outcome::skipped("pending", "matches", "not for C-ECHO-RQ".into());
        let all = [outcome("echo", true), skipped.clone()];
        let xml = end(Format::Junit, "dimse conform --scu", &all);
        assert!(
            xml.contains("failures=\"0\" errors=\"0\" skipped=\"1\""),
            "{xml}"
        );
        assert!(
            xml.contains("<skipped message=\"not for C-ECHO-RQ\"/>"),
            "{xml}"
        );
        assert_eq!(
            end(Format::Text, "", &all),
            "conform: 1 passed, 0 failed, 1 skipped\n"
        );
        assert!(line(Format::Text, &skipped).starts_with("SKIP pending"));
        let json: serde_json::Value =
            serde_json::from_str(end(Format::Json, "", &all).trim()).unwrap();
        assert_eq!(json["summary"]["skipped"], 1);
    }

    #[test]
    fn text_shows_the_trace_of_failures_only() {
        assert_eq!(
            line(Format::Text, &outcome("echo", true)).lines().count(),
            1
        );
        let failed = line(Format::Text, &outcome("echo", false));
        assert!(failed.starts_with("FAIL echo: expected"), "{failed}");
        assert!(failed.contains("[1500 ms]\n    "), "{failed}");
    }

    #[test]
    fn json_lines_parse() {
        let record: serde_json::Value =
            serde_json::from_str(&line(Format::Json, &outcome("echo", false))).unwrap();
        assert_eq!(record["scenario"], "echo");
        assert_eq!(record["ms"], 1500);
        assert_eq!(record["trace"][0], "     0 ms #1 → A-ASSOCIATE-RQ");
    }
}
