//! PLACEHOLDER: replaced by the PDU decoder.
use super::Pdu;
use bytes::BytesMut;

/// Limits applied while decoding.
#[derive(Debug, Clone)]
pub struct Limits {
    /// Largest P-DATA-TF PDU length field accepted (0 = no limit).
    pub max_pdata_length: u32,
    /// Largest length field accepted for any other PDU.
    pub max_associate_length: u32,
}
impl Default for Limits {
    fn default() -> Self {
        Limits { max_pdata_length: 0, max_associate_length: 1 << 20 }
    }
}
/// Decoding error.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DecodeError {}
/// Decode one PDU.
pub fn decode(_buf: &mut BytesMut, _limits: &Limits) -> Result<Option<Pdu>, DecodeError> { unimplemented!() }
/// Peek at the header.
pub fn peek_header(_buf: &[u8]) -> Option<(u8, u32)> { None }
