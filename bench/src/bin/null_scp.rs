//! An SCP that accepts every storage SOP class and keeps nothing: each data set is read off
//! the wire, dropped, and answered with success. `loopback` case 1 sends storescu into it
//! to measure storescu's own ceiling, the most any SCP could take from it.
//!
//! ```sh
//! target/release/null_scp AE_TITLE PORT
//! ```
//!
//! It runs on dimse-std (a thread per association) and grants the asynchronous operations
//! window `dimse serve` grants.

use dimse_std::assoc::{AbstractSyntaxMatch, TransferSyntaxChoice};
use dimse_std::{
    AcceptorPolicy, Handler, Peer, Scp, Status, StoreRequest, StoreSink, SupportedSyntax,
    ASYNC_WINDOW,
};

struct Discard;

impl Handler for Discard {
    fn store(&self, _peer: &Peer, _request: &StoreRequest) -> Result<Box<dyn StoreSink>, Status> {
        Ok(Box::new(Discard))
    }
}

impl StoreSink for Discard {
    fn write(&mut self, _data: &[u8]) -> std::io::Result<()> {
        Ok(())
    }

    fn finish(self: Box<Self>) -> Status {
        Status::SUCCESS
    }

    fn discard(self: Box<Self>) {}
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let [_, aet, port] = &args[..] else {
        eprintln!("usage: null_scp AE_TITLE PORT");
        std::process::exit(2);
    };
    let mut policy = AcceptorPolicy::new(aet);
    policy.async_window = (ASYNC_WINDOW, 1);
    policy.supported.push(SupportedSyntax {
        abstract_syntax: AbstractSyntaxMatch::AnyStorage,
        transfer_syntaxes: TransferSyntaxChoice::RequestorOrder,
        accept_scu_role: false,
    });
    let server = Scp::new(policy, Discard)
        .bind(("127.0.0.1", port.parse::<u16>().expect("a port number")))
        .unwrap_or_else(|e| panic!("cannot listen on port {port}: {e}"));
    server.run();
}
