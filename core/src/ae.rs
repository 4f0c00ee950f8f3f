//! Application Entity titles (VR AE, PS3.5 §6.2).
//!
//! An AE title is 1–16 characters of the default character repertoire (ISO 646 G0, printable
//! ASCII) without backslash or control characters. Leading and trailing spaces are not
//! significant, so the length is counted after trimming them and an all-space title is empty.
//!
//! ```
//! use dimse_core::ae::{validate_ae_title, AeTitleError};
//!
//! assert!(validate_ae_title("STORESCP").is_ok());
//! assert!(validate_ae_title("  PACS  ").is_ok());
//! assert_eq!(validate_ae_title("   "), Err(AeTitleError::Empty));
//! assert_eq!(validate_ae_title("A\\B"), Err(AeTitleError::InvalidChar { ch: '\\', index: 1 }));
//! ```

use std::fmt;

/// Maximum significant length of an AE title.
pub const MAX_AE_TITLE_LEN: usize = 16;

/// Why a string is not a valid AE title.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AeTitleError {
    /// Empty, or only spaces.
    Empty,
    /// More than 16 characters once leading/trailing spaces are removed.
    TooLong {
        /// The length after trimming, in characters.
        len: usize,
    },
    /// A character outside printable ASCII, a control character, or a backslash.
    InvalidChar {
        /// The offending character.
        ch: char,
        /// Its index (in characters) in the string as given, before trimming.
        index: usize,
    },
}

impl fmt::Display for AeTitleError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AeTitleError::Empty => f.write_str("AE title is empty or all spaces"),
            AeTitleError::TooLong { len } => {
                write!(
                    f,
                    "AE title is {len} characters long (at most {MAX_AE_TITLE_LEN})"
                )
            }
            AeTitleError::InvalidChar { ch, index } => write!(
                f,
                "AE title has invalid character {ch:?} (U+{:04X}) at index {index}; only printable \
                 ASCII without backslash is allowed",
                *ch as u32
            ),
        }
    }
}

impl std::error::Error for AeTitleError {}

/// Checks that `title` is a valid AE title; see the [module documentation](self).
///
/// Characters are checked before the length so that the error names the actual problem of
/// titles such as `"CT\u{1}"` rather than a derived one.
pub fn validate_ae_title(title: &str) -> Result<(), AeTitleError> {
    for (index, ch) in title.chars().enumerate() {
        if !(' '..='~').contains(&ch) || ch == '\\' {
            return Err(AeTitleError::InvalidChar { ch, index });
        }
    }
    let trimmed = title.trim_matches(' ');
    if trimmed.is_empty() {
        return Err(AeTitleError::Empty);
    }
    // Only ASCII is left at this point, so bytes are characters.
    if trimmed.len() > MAX_AE_TITLE_LEN {
        return Err(AeTitleError::TooLong { len: trimmed.len() });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_and_rejects() {
        assert!(validate_ae_title("A").is_ok());
        assert!(validate_ae_title("ABCDEFGHIJKLMNOP").is_ok());
        assert!(validate_ae_title("  ABCDEFGHIJKLMNOP  ").is_ok());
        assert!(validate_ae_title("MY AE").is_ok());
        assert_eq!(validate_ae_title(""), Err(AeTitleError::Empty));
        assert_eq!(
            validate_ae_title("ABCDEFGHIJKLMNOPQ"),
            Err(AeTitleError::TooLong { len: 17 })
        );
        assert_eq!(
            validate_ae_title("AB\tC"),
            Err(AeTitleError::InvalidChar { ch: '\t', index: 2 })
        );
        assert_eq!(
            validate_ae_title("Ä"),
            Err(AeTitleError::InvalidChar { ch: 'Ä', index: 0 })
        );
        assert_eq!(
            validate_ae_title("A\u{7f}"),
            Err(AeTitleError::InvalidChar {
                ch: '\u{7f}',
                index: 1
            })
        );
        assert!(AeTitleError::TooLong { len: 20 }.to_string().contains("20"));
    }
}
