//! Writing a received data set to its file: small fragments gathered, large ones written from
//! the connection's buffer, and what was gathered sent along with the next large one.
//!
//! `BufWriter` would flush what it holds and then write the large fragment: two system calls
//! for each 64 KiB instance that arrives as a meta header and one PDV. One vectored write
//! does both.

use std::fs::File;
use std::io::{self, IoSlice, Write};

/// Bytes gathered at most before they are written.
const GATHER: usize = 64 * 1024;

pub(crate) struct Gather {
    file: File,
    gathered: Vec<u8>,
}

impl Gather {
    pub(crate) fn new(file: File) -> Gather {
        Gather {
            file,
            gathered: Vec::new(),
        }
    }

    /// Appends `data` to the file: kept for now while it fits with what is gathered, else
    /// written with it in one go.
    pub(crate) fn write(&mut self, data: &[u8]) -> io::Result<()> {
        if self.gathered.len() + data.len() <= GATHER {
            self.gathered.extend_from_slice(data);
            return Ok(());
        }
        let result = write_both(&mut self.file, &self.gathered, data);
        self.gathered.clear();
        result
    }

    /// The file, with everything written to it.
    pub(crate) fn into_file(mut self) -> io::Result<File> {
        write_both(&mut self.file, &self.gathered, &[])?;
        Ok(self.file)
    }
}

/// All of `first` then all of `second`, in as few vectored writes as the file takes.
fn write_both(file: &mut File, mut first: &[u8], mut second: &[u8]) -> io::Result<()> {
    while !first.is_empty() || !second.is_empty() {
        match file.write_vectored(&[IoSlice::new(first), IoSlice::new(second)]) {
            Ok(0) => return Err(io::ErrorKind::WriteZero.into()),
            Ok(n) => {
                let from_first = n.min(first.len());
                first = &first[from_first..];
                second = &second[n - from_first..];
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn the_file_holds_every_piece_in_order(
            pieces in proptest::collection::vec(0usize..150_000, 0..12),
        ) {
            let dir = std::env::temp_dir().join(format!("dimse-gather-{}", std::process::id()));
            std::fs::create_dir_all(&dir).unwrap();
            let path = dir.join("out");
            let mut out = Gather::new(File::create(&path).unwrap());
            let mut expected = Vec::new();
            for (i, len) in pieces.iter().enumerate() {
                let piece: Vec<u8> = (0..*len).map(|j| (i * 31 + j) as u8).collect();
                out.write(&piece).unwrap();
                expected.extend_from_slice(&piece);
            }
            drop(out.into_file().unwrap());
            prop_assert_eq!(std::fs::read(&path).unwrap(), expected);
        }
    }
}
