//! The fields of DIMSE messages: typed reads and writes of command elements, and the field
//! kinds the message table (`table.rs`) declares its fields with.

use super::command::CommandError;
use super::{tags, CommandSet, Priority, Status, DATA_SET_ABSENT};
use crate::dataset::Tag;

/// Typed reads with errors that name the message and the element.
///
/// Every message reads through one (`read_field!`), so missing and malformed elements are
/// reported the same way for all.
pub(super) struct Reader<'a> {
    cmd: &'a CommandSet,
    command: &'static str,
}

impl<'a> Reader<'a> {
    pub(super) fn new(cmd: &'a CommandSet, command: &'static str) -> Self {
        Reader { cmd, command }
    }

    fn missing(&self, tag: Tag) -> CommandError {
        CommandError::MissingElement {
            command: self.command,
            tag,
            name: tags::name(tag).unwrap_or("?"),
        }
    }

    fn invalid(&self, tag: Tag, reason: &'static str) -> CommandError {
        CommandError::InvalidValue {
            command: self.command,
            tag,
            name: tags::name(tag).unwrap_or("?"),
            reason,
        }
    }

    pub(super) fn opt_u16(&self, tag: Tag) -> Result<Option<u16>, CommandError> {
        match self.cmd.get(tag) {
            None => Ok(None),
            Some([a, b]) => Ok(Some(u16::from_le_bytes([*a, *b]))),
            Some(_) => Err(self.invalid(tag, "US value must be 2 bytes")),
        }
    }

    pub(super) fn u16(&self, tag: Tag) -> Result<u16, CommandError> {
        self.opt_u16(tag)?.ok_or_else(|| self.missing(tag))
    }

    /// A string with trailing NUL/space padding removed; leading spaces are kept except for AE
    /// values, where PS3.5 makes them insignificant (see [`Self::opt_ae`]).
    pub(super) fn opt_str(&self, tag: Tag) -> Result<Option<String>, CommandError> {
        match self.cmd.get(tag) {
            None => Ok(None),
            Some(_) => match self.cmd.get_str(tag) {
                Some(s) => Ok(Some(s.to_string())),
                None => Err(self.invalid(tag, "value is not ASCII/UTF-8 text")),
            },
        }
    }

    pub(super) fn str(&self, tag: Tag) -> Result<String, CommandError> {
        self.opt_str(tag)?.ok_or_else(|| self.missing(tag))
    }

    pub(super) fn opt_ae(&self, tag: Tag) -> Result<Option<String>, CommandError> {
        Ok(self
            .opt_str(tag)?
            .map(|s| s.trim_start_matches(' ').to_string()))
    }

    pub(super) fn ae(&self, tag: Tag) -> Result<String, CommandError> {
        self.opt_ae(tag)?.ok_or_else(|| self.missing(tag))
    }

    /// Whether the received CommandDataSetType announces a data set, for the message types
    /// whose data set is optional or conditional and therefore recorded rather than implied.
    pub(super) fn data_set_present(&self) -> Result<bool, CommandError> {
        Ok(self.u16(tags::COMMAND_DATA_SET_TYPE)? != DATA_SET_ABSENT)
    }

    pub(super) fn opt_tags(&self, tag: Tag) -> Result<Vec<Tag>, CommandError> {
        match self.cmd.get(tag) {
            None => Ok(Vec::new()),
            Some(_) => self
                .cmd
                .get_tags(tag)
                .ok_or_else(|| self.invalid(tag, "AT value length must be a multiple of 4")),
        }
    }

    pub(super) fn status(&self, tag: Tag) -> Result<Status, CommandError> {
        self.u16(tag).map(Status)
    }

    pub(super) fn priority(&self, tag: Tag) -> Result<Priority, CommandError> {
        let v = self.u16(tag)?;
        Priority::from_wire(v).ok_or_else(|| self.invalid(tag, "must be 0, 1 or 2"))
    }
}

pub(super) fn set_opt_uid(cmd: &mut CommandSet, tag: Tag, value: &Option<String>) {
    if let Some(v) = value {
        cmd.set_uid(tag, v);
    }
}

pub(super) fn set_opt_str(cmd: &mut CommandSet, tag: Tag, value: &Option<String>) {
    if let Some(v) = value {
        cmd.set_str(tag, v);
    }
}

pub(super) fn set_opt_u16(cmd: &mut CommandSet, tag: Tag, value: Option<u16>) {
    if let Some(v) = value {
        cmd.set_u16(tag, v);
    }
}

/// AT lists use "empty = absent", so that a zero-length element and a missing one (which mean
/// the same to every receiver) do not become two different typed values.
pub(super) fn set_opt_tags(cmd: &mut CommandSet, tag: Tag, value: &[Tag]) {
    if !value.is_empty() {
        cmd.set_tags(tag, value);
    }
}

// The message table's field kinds. A field is declared `usage kind @ TAG`, usage as in PS3.7's
// tables: M (mandatory: a plain value, an error when missing on receipt), U or C (user option or
// conditional: an `Option`, or an empty `Vec` for `tags`, absent when not set). Kinds: `u16`
// (US), `uid` (UI), `str` (LO/ST text), `ae` (AE: leading spaces insignificant), `tags` (AT
// list), `priority`, `status`, `counts` (the four sub-operation counters, no tag of its own),
// and `data` (`has_data_set`: whether a data set follows, as CommandDataSetType (0000,0800)
// announces it, for messages whose data set is optional or conditional; no element of its own).

/// The Rust type of a field.
macro_rules! field_type {
    (M u16) => { u16 };
    (M uid) => { String };
    (M ae) => { String };
    (M priority) => { $crate::dimse::Priority };
    (M status) => { $crate::dimse::Status };
    ($usage:ident u16) => { Option<u16> };
    ($usage:ident uid) => { Option<String> };
    ($usage:ident str) => { Option<String> };
    ($usage:ident ae) => { Option<String> };
    ($usage:ident tags) => { Vec<$crate::dataset::Tag> };
    ($usage:ident counts) => { $crate::dimse::SubOperations };
    ($usage:ident data) => { bool };
}

/// Writes a field's element(s) into `$cmd`.
macro_rules! write_field {
    ($cmd:ident, $value:expr, M u16 $tag:ident) => {
        $cmd.set_u16(tags::$tag, $value)
    };
    ($cmd:ident, $value:expr, M uid $tag:ident) => {
        $cmd.set_uid(tags::$tag, &$value)
    };
    ($cmd:ident, $value:expr, M ae $tag:ident) => {
        $cmd.set_str(tags::$tag, &$value)
    };
    ($cmd:ident, $value:expr, M priority $tag:ident) => {
        $cmd.set_u16(tags::$tag, $value.to_wire())
    };
    ($cmd:ident, $value:expr, M status $tag:ident) => {
        $cmd.set_u16(tags::$tag, $value.0)
    };
    ($cmd:ident, $value:expr, $usage:ident u16 $tag:ident) => {
        set_opt_u16($cmd, tags::$tag, $value)
    };
    ($cmd:ident, $value:expr, $usage:ident uid $tag:ident) => {
        set_opt_uid($cmd, tags::$tag, &$value)
    };
    ($cmd:ident, $value:expr, $usage:ident str $tag:ident) => {
        set_opt_str($cmd, tags::$tag, &$value)
    };
    ($cmd:ident, $value:expr, $usage:ident ae $tag:ident) => {
        set_opt_str($cmd, tags::$tag, &$value)
    };
    ($cmd:ident, $value:expr, $usage:ident tags $tag:ident) => {
        set_opt_tags($cmd, tags::$tag, &$value)
    };
    ($cmd:ident, $value:expr, $usage:ident counts) => {
        $value.write($cmd)
    };
    // CommandDataSetType is written with CommandField, for every message alike.
    ($cmd:ident, $value:expr, $usage:ident data) => {};
}

/// Reads a field's element(s) with the [`Reader`] `$r`.
macro_rules! read_field {
    ($r:ident, M u16 $tag:ident) => {
        $r.u16(tags::$tag)?
    };
    ($r:ident, M uid $tag:ident) => {
        $r.str(tags::$tag)?
    };
    ($r:ident, M ae $tag:ident) => {
        $r.ae(tags::$tag)?
    };
    ($r:ident, M priority $tag:ident) => {
        $r.priority(tags::$tag)?
    };
    ($r:ident, M status $tag:ident) => {
        $r.status(tags::$tag)?
    };
    ($r:ident, $usage:ident u16 $tag:ident) => {
        $r.opt_u16(tags::$tag)?
    };
    ($r:ident, $usage:ident uid $tag:ident) => {
        $r.opt_str(tags::$tag)?
    };
    ($r:ident, $usage:ident str $tag:ident) => {
        $r.opt_str(tags::$tag)?
    };
    ($r:ident, $usage:ident ae $tag:ident) => {
        $r.opt_ae(tags::$tag)?
    };
    ($r:ident, $usage:ident tags $tag:ident) => {
        $r.opt_tags(tags::$tag)?
    };
    ($r:ident, $usage:ident counts) => {
        $crate::dimse::SubOperations::read(&$r)?
    };
    ($r:ident, $usage:ident data) => {
        $r.data_set_present()?
    };
}

pub(super) use {field_type, read_field, write_field};
