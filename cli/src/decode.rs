//! `dimse decode`: the DICOM upper-layer conversation in a packet capture (pcap or pcapng,
//! TCP streams reassembled, any port) or a raw byte dump, printed as `--trace` prints it.
//!
//! Capture formats are pcap-file's business, link, IP and TCP headers etherparse's; the
//! TCP reassembly (sequence numbers, retransmissions, segments out of order) is here, and
//! the PDUs are read by the core's [`WireTrace`].

use std::collections::{BTreeMap, HashMap};
use std::io::Write;
use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::process::ExitCode;

use dimse_core::pdu::trace::{Direction, WireTrace};
use dimse_core::pdu::{pdu_type, peek_header};
use etherparse::{NetSlice, SlicedPacket, TransportSlice};
use pcap_file::pcap::PcapReader;
use pcap_file::pcapng::{Block, PcapNgReader};
use pcap_file::DataLink;

#[derive(clap::Args)]
pub struct Args {
    /// A pcap or pcapng capture (tcpdump -w, Wireshark), or a raw dump of the bytes one side
    /// sent.
    file: PathBuf,
    /// Show data sets element by element (patient data included), as --trace-data does.
    #[arg(long)]
    data: bool,
}

pub fn run(args: Args, trace_data: bool) -> Result<ExitCode, String> {
    let bytes = std::fs::read(&args.file)
        .map_err(|e| format!("cannot read {}: {e}", args.file.display()))?;
    let stdout = std::io::BufWriter::new(std::io::stdout());
    let mut out = Output::new(args.data || trace_data, stdout);
    let summary = match bytes.get(..4) {
        Some([0x0a, 0x0d, 0x0d, 0x0a]) => pcapng(&bytes, &mut out)?,
        Some(m) if PCAP_MAGICS.iter().any(|x| x == m) => pcap(&bytes, &mut out)?,
        _ => {
            out.raw(&bytes);
            "a raw dump: read as the bytes one side sent".to_string()
        }
    };
    let dicom = out.finish();
    if let Some(e) = out.failed.take() {
        if e.kind() != std::io::ErrorKind::BrokenPipe {
            return Err(format!("cannot write the trace: {e}"));
        }
    }
    eprintln!("dimse decode: {summary}, {dicom} DICOM stream(s)");
    for skipped in &out.not_dicom {
        eprintln!("dimse decode: skipped {skipped}");
    }
    Ok(ExitCode::SUCCESS)
}

/// Both byte orders of the microsecond and nanosecond pcap formats.
const PCAP_MAGICS: [[u8; 4]; 4] = [
    [0xd4, 0xc3, 0xb2, 0xa1],
    [0xa1, 0xb2, 0xc3, 0xd4],
    [0x4d, 0x3c, 0xb2, 0xa1],
    [0xa1, 0xb2, 0x3c, 0x4d],
];

fn pcap(bytes: &[u8], out: &mut Output<impl Write>) -> Result<String, String> {
    let mut reader = PcapReader::new(bytes).map_err(|e| format!("pcap: {e}"))?;
    let link = reader.header().datalink;
    let mut packets = 0;
    while let Some(packet) = reader.next_packet() {
        let packet = packet.map_err(|e| format!("pcap, after {packets} packets: {e}"))?;
        packets += 1;
        out.packet(link, &packet.data);
    }
    Ok(format!("{packets} packets"))
}

fn pcapng(bytes: &[u8], out: &mut Output<impl Write>) -> Result<String, String> {
    let mut reader = PcapNgReader::new(bytes).map_err(|e| format!("pcapng: {e}"))?;
    let mut packets = 0;
    while let Some(block) = reader.next_block() {
        let block = block.map_err(|e| format!("pcapng, after {packets} packets: {e}"))?;
        let (interface, data) = match block {
            Block::EnhancedPacket(p) => (p.interface_id, p.data.into_owned()),
            Block::SimplePacket(p) => (0, p.data.into_owned()),
            Block::Packet(p) => (u32::from(p.interface_id), p.data.into_owned()),
            _ => continue,
        };
        packets += 1;
        let link = reader
            .interfaces()
            .get(interface as usize)
            .map(|i| i.linktype)
            .ok_or_else(|| format!("pcapng: packet {packets} names no known interface"))?;
        out.packet(link, &data);
    }
    Ok(format!("{packets} packets"))
}

/// One direction of a TCP connection being put back in order.
#[derive(Default)]
struct Flow {
    /// The sequence number of the next byte expected; `None` until the first segment.
    next: Option<u32>,
    /// Segments that arrived ahead of a gap, by sequence number.
    ahead: BTreeMap<u32, Vec<u8>>,
}

impl Flow {
    /// Takes a segment; returns the bytes now in order.
    fn segment(&mut self, seq: u32, syn: bool, payload: &[u8]) -> Vec<u8> {
        if syn {
            self.next = Some(seq.wrapping_add(1));
        }
        let next = *self.next.get_or_insert(seq);
        let mut ready = Vec::new();
        let data_seq = if syn { seq.wrapping_add(1) } else { seq };
        self.take(next, data_seq, payload, &mut ready);
        while let Some(next) = self.next {
            // Anything buffered that now starts at or before the next expected byte.
            let Some((&s, _)) = self
                .ahead
                .iter()
                .find(|(&s, _)| (next.wrapping_sub(s) as i32) >= 0)
            else {
                break;
            };
            let data = self.ahead.remove(&s).unwrap_or_default();
            self.take(next, s, &data, &mut ready);
        }
        ready
    }

    fn take(&mut self, next: u32, seq: u32, payload: &[u8], ready: &mut Vec<u8>) {
        if payload.is_empty() {
            return;
        }
        let offset = next.wrapping_sub(seq) as i32;
        if offset < 0 {
            // A gap before this segment: keep it for when the gap fills.
            self.ahead.insert(seq, payload.to_vec());
            return;
        }
        let offset = offset as usize;
        if offset < payload.len() {
            // A retransmission may overlap what we have: only the new part counts.
            ready.extend_from_slice(&payload[offset..]);
            self.next = Some(seq.wrapping_add(payload.len() as u32));
        }
    }
}

/// One TCP connection: both directions and their trace.
struct Stream {
    number: usize,
    /// The requestor's end (the side that connected, as far as the capture shows).
    requestor: SocketAddr,
    flows: [Flow; 2],
    /// `None` until the first payload says whether this is DICOM.
    trace: Option<WireTrace>,
    skipped: bool,
}

/// The streams of a capture and where their trace goes.
struct Output<W> {
    show_data: bool,
    streams: HashMap<(SocketAddr, SocketAddr), Stream>,
    order: Vec<(SocketAddr, SocketAddr)>,
    not_dicom: Vec<String>,
    writer: W,
    failed: Option<std::io::Error>,
}

impl<W: Write> Output<W> {
    fn new(show_data: bool, writer: W) -> Self {
        Output {
            show_data,
            streams: HashMap::new(),
            order: Vec::new(),
            not_dicom: Vec::new(),
            writer,
            failed: None,
        }
    }

    fn print(&mut self, number: usize, lines: &[String]) {
        for line in lines {
            if let Err(e) = writeln!(self.writer, "#{number} {line}") {
                self.failed.get_or_insert(e);
            }
        }
    }

    fn raw(&mut self, bytes: &[u8]) {
        let mut trace = WireTrace::new(self.show_data);
        let mut lines = trace.feed(Direction::FromRequestor, bytes);
        lines.extend(trace.finish());
        self.print(1, &lines);
    }

    fn packet(&mut self, link: DataLink, data: &[u8]) {
        let sliced = match link {
            DataLink::ETHERNET => SlicedPacket::from_ethernet(data),
            DataLink::LINUX_SLL => SlicedPacket::from_linux_sll(data),
            DataLink::RAW | DataLink::IPV4 | DataLink::IPV6 => SlicedPacket::from_ip(data),
            // BSD loopback: a 4-byte address family, then IP.
            DataLink::NULL | DataLink::LOOP if data.len() > 4 => SlicedPacket::from_ip(&data[4..]),
            // Linux "any" v2: a 20-byte header, then IP (other protocols fail to slice).
            DataLink::LINUX_SLL2 if data.len() > 20 => SlicedPacket::from_ip(&data[20..]),
            _ => return,
        };
        let Ok(packet) = sliced else { return };
        let (source, destination): (IpAddr, IpAddr) = match &packet.net {
            Some(NetSlice::Ipv4(ip)) => (
                ip.header().source_addr().into(),
                ip.header().destination_addr().into(),
            ),
            Some(NetSlice::Ipv6(ip)) => (
                ip.header().source_addr().into(),
                ip.header().destination_addr().into(),
            ),
            _ => return,
        };
        let Some(TransportSlice::Tcp(tcp)) = &packet.transport else {
            return;
        };
        let from = SocketAddr::new(source, tcp.source_port());
        let to = SocketAddr::new(destination, tcp.destination_port());
        let key = if from <= to { (from, to) } else { (to, from) };
        let payload = tcp.payload();
        if !self.streams.contains_key(&key) {
            let opening = tcp.syn() && !tcp.ack();
            if payload.is_empty() && !opening {
                // A connection's tail (or a bare ACK) with nothing to show yet: wait for a
                // SYN or data to say who is who.
                return;
            }
            self.order.push(key);
            let requestor = if tcp.syn() && tcp.ack() { to } else { from };
            self.streams.insert(
                key,
                Stream {
                    number: self.order.len(),
                    requestor,
                    flows: [Flow::default(), Flow::default()],
                    trace: None,
                    skipped: false,
                },
            );
        }
        let show_data = self.show_data;
        let Some(stream) = self.streams.get_mut(&key) else {
            return;
        };
        let direction = if from == stream.requestor {
            Direction::FromRequestor
        } else {
            Direction::FromAcceptor
        };
        let flow = &mut stream.flows[direction as usize];
        let ready = flow.segment(tcp.sequence_number(), tcp.syn(), payload);
        if ready.is_empty() || stream.skipped {
            return;
        }
        let number = stream.number;
        let mut header = Vec::new();
        if stream.trace.is_none() {
            if !looks_like_a_pdu(&ready) {
                stream.skipped = true;
                let what = if ready.first() == Some(&0x16) {
                    "TLS, which cannot be read from a capture"
                } else {
                    "not a DICOM PDU"
                };
                self.not_dicom.push(format!("{from} → {to}: {what}"));
                return;
            }
            // A capture that starts mid-association shows its first PDU from whichever
            // side spoke; an A-ASSOCIATE-AC first means we guessed the sides wrong.
            if direction == Direction::FromRequestor && ready[0] == pdu_type::ASSOCIATE_AC {
                stream.requestor = to;
                return self.packet_again(key, direction, ready);
            }
            let (requestor, acceptor) = if from == stream.requestor {
                (from, to)
            } else {
                (to, from)
            };
            header.push(format!("stream {requestor} → {acceptor}"));
            stream.trace = Some(WireTrace::new(show_data));
        }
        let direction = if from == stream.requestor {
            Direction::FromRequestor
        } else {
            Direction::FromAcceptor
        };
        if let Some(trace) = &mut stream.trace {
            header.extend(trace.feed(direction, &ready));
        }
        self.print(number, &header);
    }

    /// The first bytes of a stream whose sides were guessed wrong: the flows swap places.
    fn packet_again(
        &mut self,
        key: (SocketAddr, SocketAddr),
        direction: Direction,
        ready: Vec<u8>,
    ) {
        let show_data = self.show_data;
        let Some(stream) = self.streams.get_mut(&key) else {
            return;
        };
        stream.flows.swap(0, 1);
        let other = if direction == Direction::FromRequestor {
            Direction::FromAcceptor
        } else {
            Direction::FromRequestor
        };
        let (requestor, acceptor) = if key.0 == stream.requestor {
            (key.0, key.1)
        } else {
            (key.1, key.0)
        };
        let mut trace = WireTrace::new(show_data);
        let mut lines = vec![format!("stream {requestor} → {acceptor}")];
        lines.extend(trace.feed(other, &ready));
        stream.trace = Some(trace);
        let number = stream.number;
        self.print(number, &lines);
    }

    /// Ends every stream (reporting PDUs cut short); returns how many were DICOM.
    fn finish(&mut self) -> usize {
        let mut dicom = 0;
        for key in std::mem::take(&mut self.order) {
            let Some(mut stream) = self.streams.remove(&key) else {
                continue;
            };
            if let Some(trace) = &mut stream.trace {
                dicom += 1;
                let lines = trace.finish();
                self.print(stream.number, &lines);
            }
        }
        if let Err(e) = self.writer.flush() {
            self.failed.get_or_insert(e);
        }
        dicom
    }
}

/// Whether bytes start like an upper-layer PDU: a known type, a zero reserved byte, a sane
/// length.
fn looks_like_a_pdu(bytes: &[u8]) -> bool {
    match (peek_header(bytes), bytes.get(1)) {
        (Some((ty, len)), Some(0)) => (1..=7).contains(&ty) && len <= 64 << 20,
        (None, _) => (1..=7).contains(&bytes[0]),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn segments_in_any_order_and_repeated_come_out_once_in_order() {
        let mut flow = Flow::default();
        assert!(flow.segment(1000, true, &[]).is_empty());
        assert_eq!(flow.segment(1001, false, b"abc"), b"abc");
        // Out of order: "ghi" waits for "def".
        assert!(flow.segment(1007, false, b"ghi").is_empty());
        assert_eq!(flow.segment(1004, false, b"def"), b"defghi");
        // A retransmission overlapping the end adds only what is new.
        assert_eq!(flow.segment(1008, false, b"hijk"), b"jk");
        assert!(flow.segment(1001, false, b"abc").is_empty());
    }

    /// A pcapng capture, as Wireshark writes them, of one connection whose segments come out
    /// of order and again: the trace shows each PDU once, sides right.
    #[test]
    fn a_pcapng_capture_with_segments_out_of_order() {
        use etherparse::PacketBuilder;
        use pcap_file::pcapng::blocks::enhanced_packet::EnhancedPacketBlock;
        use pcap_file::pcapng::blocks::interface_description::InterfaceDescriptionBlock;
        use pcap_file::pcapng::PcapNgWriter;

        let (client, server) = ([10, 0, 0, 1], [10, 0, 0, 2]);
        let frame = |from_client: bool, seq: u32, syn: bool, ack: bool, payload: &[u8]| {
            let (src, dst, sport, dport) = if from_client {
                (client, server, 40000, 104)
            } else {
                (server, client, 104, 40000)
            };
            let mut b = PacketBuilder::ethernet2([1; 6], [2; 6])
                .ipv4(src, dst, 64)
                .tcp(sport, dport, seq, 1024);
            if syn {
                b = b.syn();
            }
            if ack {
                b = b.ack(1);
            }
            let mut bytes = Vec::new();
            b.write(&mut bytes, payload).unwrap();
            bytes
        };
        let release_rq = [5u8, 0, 0, 0, 0, 4, 0, 0, 0, 0];
        let release_rp = [6u8, 0, 0, 0, 0, 4, 0, 0, 0, 0];
        let frames = [
            frame(true, 100, true, false, &[]),
            frame(false, 500, true, true, &[]),
            frame(true, 106, false, true, &release_rq[5..]),
            frame(true, 101, false, true, &release_rq[..5]),
            frame(true, 101, false, true, &release_rq),
            frame(false, 501, false, true, &release_rp),
        ];
        let mut writer = PcapNgWriter::new(Vec::new()).unwrap();
        writer
            .write_pcapng_block(InterfaceDescriptionBlock {
                linktype: DataLink::ETHERNET,
                snaplen: 0xFFFF,
                options: vec![],
            })
            .unwrap();
        for data in &frames {
            writer
                .write_pcapng_block(EnhancedPacketBlock {
                    interface_id: 0,
                    timestamp: std::time::Duration::ZERO,
                    original_len: data.len() as u32,
                    data: std::borrow::Cow::Borrowed(data),
                    options: vec![],
                })
                .unwrap();
        }
        let capture = writer.into_inner();
        let mut out = Output::new(false, Vec::new());
        assert_eq!(pcapng(&capture, &mut out).unwrap(), "6 packets");
        assert_eq!(out.finish(), 1);
        assert_eq!(
            String::from_utf8(out.writer).unwrap(),
            "#1 stream 10.0.0.1:40000 → 10.0.0.2:104\n#1 → A-RELEASE-RQ\n#1 ← A-RELEASE-RP\n"
        );
    }

    #[test]
    fn sequence_numbers_wrap() {
        let mut flow = Flow::default();
        flow.segment(u32::MAX - 1, true, &[]);
        assert_eq!(flow.segment(u32::MAX, false, b"ab"), b"ab");
        assert_eq!(flow.segment(1, false, b"c"), b"c");
    }
}
