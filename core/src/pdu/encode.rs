//! PLACEHOLDER: replaced by the PDU encoder.
use super::Pdu;
use bytes::BytesMut;
/// Encode.
pub fn encode(_pdu: &Pdu, _buf: &mut BytesMut) { unimplemented!() }
/// Length.
pub fn encoded_len(_pdu: &Pdu) -> usize { 0 }
/// P-DATA header.
pub fn encode_pdata_header(_len: u32, _buf: &mut BytesMut) {}
/// PDV header.
pub fn encode_pdv_header(_context_id: u8, _control: u8, _data_len: u32, _buf: &mut BytesMut) {}
