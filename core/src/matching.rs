//! Attribute matching for C-FIND, PS3.4 C.2.2.2.
//!
//! A key of a C-FIND identifier becomes a [`Condition`] once, then is tested against the
//! values each candidate record holds. The rules:
//! - zero length is *universal* matching: everything matches, the key is only returned;
//! - `""` (two quotation marks) is *empty value* matching: only records without a value match;
//! - on UI keys, values separated by `\` are a *list of UIDs*: any one may match;
//! - on DA, TM and DT keys, a `-` is *range* matching, inclusive, open at either end;
//! - on text VRs that allow it (AE, CS, LO, LT, PN, SH, ST, UC, UR, UT), `*` and `?` are
//!   *wildcards*; `*` alone is universal;
//! - anything else is *single value* matching.
//!
//! Person names (PN) compare case-insensitively, which the standard leaves to the
//! implementation; everything else is case-sensitive. Leading and trailing spaces are never
//! significant. A record attribute with several values matches when any of them does.

use crate::dataset::Vr;

/// What one key asks of a record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Condition {
    /// Zero-length key: matches every record.
    Universal,
    /// `""`: matches records where the attribute is absent or empty.
    Empty,
    /// One value to compare for equality.
    Single(String),
    /// A pattern with `*` and `?`.
    Wildcard(String),
    /// An inclusive range; `None` is an open end.
    Range(Option<String>, Option<String>),
    /// Several UIDs, any of which matches.
    UidList(Vec<String>),
}

/// One parsed key of an identifier.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Matcher {
    vr: Vr,
    condition: Condition,
}

fn allows_wildcards(vr: Vr) -> bool {
    matches!(
        vr,
        Vr::AE | Vr::CS | Vr::LO | Vr::LT | Vr::PN | Vr::SH | Vr::ST | Vr::UC | Vr::UR | Vr::UT
    )
}

fn is_temporal(vr: Vr) -> bool {
    matches!(vr, Vr::DA | Vr::TM | Vr::DT)
}

impl Matcher {
    /// The matcher for a key of `vr` whose value (decoded, padding removed) is `raw`.
    ///
    /// ```
    /// use dimse_core::matching::{Condition, Matcher};
    /// use dimse_core::dataset::Vr;
    ///
    /// let m = Matcher::new(Vr::DA, "20010101-20011231");
    /// assert!(m.matches(&["20010615".to_string()]));
    /// assert!(!m.matches(&["20020101".to_string()]));
    /// assert_eq!(Matcher::new(Vr::PN, "*").condition(), &Condition::Universal);
    /// ```
    pub fn new(vr: Vr, raw: &str) -> Matcher {
        let value = raw.trim_matches([' ', '\0']);
        let condition = if value.is_empty() {
            Condition::Universal
        } else if value == "\"\"" {
            Condition::Empty
        } else if vr == Vr::UI && value.contains('\\') {
            Condition::UidList(
                value
                    .split('\\')
                    .map(|u| u.trim_matches([' ', '\0']).to_string())
                    .filter(|u| !u.is_empty())
                    .collect(),
            )
        } else if is_temporal(vr) && value.contains('-') && !is_dt_offset_only(vr, value) {
            let (lo, hi) = value.split_once('-').expect("contains '-'");
            let end = |s: &str| Some(normalize_temporal(vr, s)).filter(|s| !s.is_empty());
            Condition::Range(end(lo), end(hi))
        } else if allows_wildcards(vr) && value.bytes().all(|b| b == b'*') {
            Condition::Universal
        } else if allows_wildcards(vr) && value.contains(['*', '?']) {
            Condition::Wildcard(value.to_string())
        } else if is_temporal(vr) {
            Condition::Single(normalize_temporal(vr, value))
        } else {
            Condition::Single(value.to_string())
        };
        Matcher { vr, condition }
    }

    /// The parsed condition.
    pub fn condition(&self) -> &Condition {
        &self.condition
    }

    /// Whether a record whose attribute holds `values` (each trimmed; none when absent or
    /// empty) matches.
    pub fn matches(&self, values: &[String]) -> bool {
        match &self.condition {
            Condition::Universal => true,
            Condition::Empty => values.iter().all(|v| v.trim().is_empty()),
            _ => values
                .iter()
                .any(|v| self.matches_one(v.trim_matches([' ', '\0']))),
        }
    }

    fn matches_one(&self, value: &str) -> bool {
        let fold = self.vr == Vr::PN;
        match &self.condition {
            Condition::Universal => true,
            Condition::Empty => value.is_empty(),
            Condition::Single(want) if is_temporal(self.vr) => {
                let have = normalize_temporal(self.vr, value);
                match self.vr {
                    // A partial time asks for everything within it (PS3.4 C.2.2.2.1: "10"
                    // is the whole hour).
                    Vr::TM | Vr::DT => have.starts_with(want.as_str()),
                    _ => have == *want,
                }
            }
            Condition::Single(want) if fold => want.eq_ignore_ascii_case(value),
            Condition::Single(want) if matches!(self.vr, Vr::IS | Vr::DS) => {
                match (want.parse::<f64>(), value.parse::<f64>()) {
                    (Ok(a), Ok(b)) => a == b,
                    _ => want == value,
                }
            }
            Condition::Single(want) => want == value,
            Condition::Wildcard(pattern) => wildcard(pattern, value, fold),
            Condition::UidList(uids) => uids.iter().any(|u| u == value),
            Condition::Range(lo, hi) => {
                let have = normalize_temporal(self.vr, value);
                if have.is_empty() {
                    return false;
                }
                let above = lo.as_ref().map_or(true, |lo| have.as_str() >= lo.as_str());
                // The upper end covers everything it is a prefix of ("-2002" ends with 2002).
                let below = hi.as_ref().map_or(true, |hi| {
                    have.as_str() <= hi.as_str() || have.starts_with(hi.as_str())
                });
                above && below
            }
        }
    }
}

/// In DT a `-` may be the sign of a UTC offset (`20010101120000-0500`), not a range.
fn is_dt_offset_only(vr: Vr, value: &str) -> bool {
    vr == Vr::DT
        && value
            .split_once('-')
            .is_some_and(|(lo, hi)| lo.len() >= 14 && hi.len() == 4 && !hi.contains('-'))
}

/// Comparable form of a date or time: the pre-1993 separators (`1993.01.01`, `10:30`)
/// removed, so ordering is plain string ordering.
fn normalize_temporal(vr: Vr, value: &str) -> String {
    let value = value.trim_matches([' ', '\0']);
    match vr {
        Vr::DA => value.chars().filter(|c| *c != '.').collect(),
        Vr::TM => value.chars().filter(|c| *c != ':').collect(),
        _ => value.to_string(),
    }
}

/// `*` matches any run of characters, `?` exactly one.
fn wildcard(pattern: &str, value: &str, fold: bool) -> bool {
    let norm = |s: &str| -> Vec<char> {
        if fold {
            s.chars().flat_map(char::to_lowercase).collect()
        } else {
            s.chars().collect()
        }
    };
    let (p, v) = (norm(pattern), norm(value));
    // Iterative matcher with backtracking to the last `*`: linear in practice, never
    // exponential on hostile patterns like `*a*a*a*b`.
    let (mut pi, mut vi) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while vi < v.len() {
        if pi < p.len() && (p[pi] == '?' || p[pi] == v[vi]) {
            pi += 1;
            vi += 1;
        } else if pi < p.len() && p[pi] == '*' {
            star = Some((pi, vi));
            pi += 1;
        } else if let Some((sp, sv)) = star {
            pi = sp + 1;
            vi = sv + 1;
            star = Some((sp, sv + 1));
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|c| *c == '*')
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(vr: Vr, key: &str, value: &str) -> bool {
        Matcher::new(vr, key).matches(&[value.to_string()])
    }

    #[test]
    fn universal_and_empty() {
        assert!(m(Vr::LO, "", "anything"));
        assert!(Matcher::new(Vr::LO, "").matches(&[]));
        assert!(m(Vr::PN, "*", ""));
        assert!(Matcher::new(Vr::LO, "\"\"").matches(&[]));
        assert!(!m(Vr::LO, "\"\"", "x"));
        assert!(!Matcher::new(Vr::LO, "x").matches(&[]));
    }

    #[test]
    fn single_values() {
        assert!(m(Vr::LO, "ABC", "ABC "));
        assert!(!m(Vr::LO, "ABC", "abc"));
        assert!(m(Vr::PN, "doe^john", "DOE^JOHN"));
        assert!(m(Vr::IS, "3", "03"));
        assert!(m(Vr::UI, "1.2.3", "1.2.3\0"));
        assert!(!m(Vr::UI, "1.2.3", "1.2.30"));
        assert!(m(Vr::DA, "20010101", "2001.01.01"));
        assert!(m(Vr::TM, "10", "103000.5"));
        assert!(!m(Vr::TM, "10", "113000"));
    }

    #[test]
    fn wildcards() {
        assert!(m(Vr::PN, "Comp*", "CompressedSamples^CT1"));
        assert!(m(Vr::PN, "comp*ct?", "CompressedSamples^CT1"));
        assert!(!m(Vr::LO, "comp*", "CompressedSamples"));
        assert!(m(Vr::CS, "?T", "CT"));
        assert!(!m(Vr::CS, "?T", "CTX"));
        assert!(m(Vr::CS, "RTPLAN", "RTPLAN"));
        assert!(!m(Vr::CS, "RTPLAN", "RTSTRUCT"));
        assert!(m(Vr::CS, "RT*", "RTPLAN"));
        assert!(m(Vr::CS, "R?P*N", "RTPLAN"));
        assert!(m(Vr::CS, "*A*N", "RTPLAN"));
        assert!(!m(Vr::CS, "CT?", "CT"));
        assert!(m(Vr::LO, "*a*a*a*b", "aaaaaaaaaaaaaaaaaaaaaaaaaab"));
        assert!(!m(Vr::LO, "*a*a*a*b", "aaaaaaaaaaaaaaaaaaaaaaaaaaa"));
        // Wildcards are literal on UIDs and dates: no match rather than a pattern.
        assert_eq!(
            Matcher::new(Vr::UI, "1.2.*").condition(),
            &Condition::Single("1.2.*".into())
        );
    }

    #[test]
    fn ranges() {
        assert!(m(Vr::DA, "20010101-20011231", "20011231"));
        assert!(!m(Vr::DA, "20010101-20011231", "20020101"));
        assert!(m(Vr::DA, "-20011231", "19990101"));
        assert!(m(Vr::DA, "20010101-", "20300101"));
        assert!(!m(Vr::DA, "20010101-", "20001231"));
        assert!(!m(Vr::DA, "20010101-", ""));
        assert!(m(Vr::TM, "0900-1200", "113000"));
        assert!(m(Vr::TM, "0900-12", "125959"));
        assert!(!m(Vr::TM, "0900-1200", "130000"));
        assert!(m(Vr::TM, "09:00-12:00", "10:00:00"));
        assert_eq!(
            Matcher::new(Vr::DT, "20010101120000-0500").condition(),
            &Condition::Single("20010101120000-0500".into())
        );
    }

    #[test]
    fn uid_lists_and_multiple_values() {
        let k = Matcher::new(Vr::UI, "1.2.3\\1.2.4");
        assert!(k.matches(&["1.2.4".into()]));
        assert!(!k.matches(&["1.2.5".into()]));
        let modalities = vec!["CT".to_string(), "MR".to_string()];
        assert!(Matcher::new(Vr::CS, "MR").matches(&modalities));
        assert!(!Matcher::new(Vr::CS, "US").matches(&modalities));
    }

    proptest::proptest! {
        #[test]
        fn any_key_against_any_value_never_panics(
            key in "[ -~]{0,24}",
            value in "[ -~]{0,24}",
        ) {
            for vr in [Vr::PN, Vr::LO, Vr::CS, Vr::UI, Vr::DA, Vr::TM, Vr::DT, Vr::IS] {
                let _ = Matcher::new(vr, &key).matches(std::slice::from_ref(&value));
            }
        }

        #[test]
        fn a_value_matches_itself_and_star_patterns(value in "[A-Za-z0-9^ ]{1,16}") {
            let v = value.trim().to_string();
            proptest::prop_assume!(!v.is_empty());
            proptest::prop_assert!(Matcher::new(Vr::LO, &v).matches(std::slice::from_ref(&v)));
            let star = format!("*{}*", &v[v.len() / 2..]);
            proptest::prop_assert!(Matcher::new(Vr::LO, &star).matches(std::slice::from_ref(&v)));
            proptest::prop_assert!(Matcher::new(Vr::PN, &v.to_lowercase()).matches(std::slice::from_ref(&v)));
        }
    }
}
