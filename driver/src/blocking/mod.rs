//! The driver run to completion on the calling thread, for runtimes whose futures do their
//! waiting inside socket calls (`dimse-std`): [`block_on`], a [`Sleep`] timer, and the SCU's
//! calls as blocking ones ([`Scu`], [`ScuAssociation`], [`FindResults`], [`QueryBuilder`]).

mod block;
mod scu;
mod sleep;

pub use block::block_on;
pub use scu::{FindResults, QueryBuilder, Scu, ScuAssociation};
pub use sleep::Sleep;
