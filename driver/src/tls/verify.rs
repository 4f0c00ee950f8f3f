//! Certificate checks as DICOM sites deploy TLS: the peer's own certificate handed over as
//! trusted (DCMTK `+cf`, Orthanc `DicomTlsTrustedCertificates`), pinned fingerprints, and CA
//! chains.
//!
//! The usual site certificate is one made by `openssl req -x509`: self-signed and marked
//! `CA:TRUE`. WebPKI path building refuses such a certificate as the end entity
//! (`CaUsedAsEndEntity`) even when it is the trust anchor itself, so a certificate the user
//! trusts *as it is* is checked here directly: byte-equal to a trusted certificate (or its
//! SHA-256 pinned), within its validity dates, naming the host (unless that check is off);
//! the handshake signature is still verified by the crypto provider, so only the holder of
//! the key gets through. Everything else goes to WebPKI chain verification against the same
//! certificates as CAs. Failures come back as a [`CertificateProblem`] that says what to do.

use std::fmt;
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::CryptoProvider;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::server::danger::{ClientCertVerified, ClientCertVerifier};
use rustls::server::{ParsedCertificate, WebPkiClientVerifier};
use rustls::{
    CertificateError, DigitallySignedStruct, DistinguishedName, Error, OtherError, RootCertStore,
    SignatureScheme,
};
use x509_cert::der::{Decode, Tag, Tagged};

use super::{TlsError, Trust};

/// The SHA-256 digest of a certificate's DER encoding: what `openssl x509 -noout -fingerprint
/// -sha256` prints, and what `--tls-pin` takes.
///
/// Parsed from hex with or without colons (any case), optionally after the `sha256
/// Fingerprint=` prefix OpenSSL prints; shown as colon-separated upper-case hex.
///
/// ```
/// use dimse_driver::Fingerprint;
///
/// let pin: Fingerprint = "sha256 Fingerprint=5E:88:48:98:DA:28:04:71:51:D0:E5:6F:8D:C6:29:27:\
///     73:60:3D:0D:6A:AB:BD:D6:2A:11:EF:72:1D:15:42:D8".parse().unwrap();
/// assert_eq!(pin, Fingerprint::of(b"password"));
/// assert!(pin.to_string().starts_with("5E:88:48"));
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Fingerprint(pub [u8; 32]);

impl Fingerprint {
    /// The fingerprint of `der` (a certificate's DER bytes).
    pub fn of(der: &[u8]) -> Self {
        let digest = ring::digest::digest(&ring::digest::SHA256, der);
        let mut out = [0; 32];
        out.copy_from_slice(digest.as_ref());
        Fingerprint(out)
    }
}

impl FromStr for Fingerprint {
    type Err = TlsError;

    fn from_str(s: &str) -> Result<Self, TlsError> {
        let bad = |reason: &str| TlsError::Pin {
            value: s.to_string(),
            reason: reason.to_string(),
        };
        // `openssl x509 -fingerprint` prints `sha256 Fingerprint=AB:CD:...`: take it as is.
        let hex = s.rsplit_once('=').map_or(s, |(_, h)| h);
        let digits: Vec<u8> = hex
            .bytes()
            .filter(|b| !matches!(b, b':' | b' ' | b'\t'))
            .collect();
        if digits.len() != 64 {
            return Err(bad(
                "expected a SHA-256 fingerprint: 64 hex digits, colons allowed",
            ));
        }
        let mut out = [0; 32];
        for (byte, pair) in out.iter_mut().zip(digits.chunks(2)) {
            let pair = std::str::from_utf8(pair).map_err(|_| bad("not hex"))?;
            *byte = u8::from_str_radix(pair, 16).map_err(|_| bad("not hex"))?;
        }
        Ok(Fingerprint(out))
    }
}

impl fmt::Display for Fingerprint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, b) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str(":")?;
            }
            write!(f, "{b:02X}")?;
        }
        Ok(())
    }
}

impl fmt::Debug for Fingerprint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Fingerprint({self})")
    }
}

/// Why a peer's certificate was refused, with what to do about it. The TLS error of a failed
/// handshake carries it ([`super::TlsFailure::PeerCertificate`]).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum CertificateProblem {
    /// A self-signed certificate that is not one of the trusted certificates.
    SelfSigned {
        /// Its subject (`CN=...`).
        subject: String,
        /// Its SHA-256 fingerprint.
        fingerprint: Fingerprint,
    },
    /// A certificate whose issuer is not trusted.
    UnknownIssuer {
        /// Its subject.
        subject: String,
        /// Its issuer.
        issuer: String,
        /// Its SHA-256 fingerprint.
        fingerprint: Fingerprint,
    },
    /// The certificate does not name the host we connected to.
    WrongName {
        /// The host name or address we connected to.
        host: String,
        /// The names the certificate gives (subjectAltName, or its CN when it has none).
        names: Vec<String>,
    },
    /// The certificate's validity ended.
    Expired {
        /// Its notAfter date (UTC).
        not_after: String,
    },
    /// The certificate's validity has not begun.
    NotYetValid {
        /// Its notBefore date (UTC).
        not_before: String,
    },
    /// The certificate could not be parsed.
    Unreadable,
    /// Chain verification refused it for another reason.
    Refused {
        /// Why, in words.
        reason: String,
    },
}

impl fmt::Display for CertificateProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CertificateProblem::SelfSigned {
                subject,
                fingerprint,
            } => write!(
                f,
                "the peer's certificate ({subject}) is self-signed and not in the trust set; \
                 pass it with --tls-ca (or pin it: --tls-pin {fingerprint})"
            ),
            CertificateProblem::UnknownIssuer {
                subject,
                issuer,
                fingerprint,
            } => write!(
                f,
                "the peer's certificate ({subject}) is issued by {issuer}, which is not in \
                 the trust set; pass that CA's certificate with --tls-ca (or pin the peer's: \
                 --tls-pin {fingerprint})"
            ),
            CertificateProblem::WrongName { host, names } if names.is_empty() => write!(
                f,
                "the certificate names no host at all, not the host {host} you connected to \
                 (--tls-no-verify-name to skip this check)"
            ),
            CertificateProblem::WrongName { host, names } => write!(
                f,
                "the certificate names {}, not the host {host} you connected to \
                 (--tls-no-verify-name to skip this check)",
                names.join(", ")
            ),
            CertificateProblem::Expired { not_after } => write!(
                f,
                "the peer's certificate expired on {not_after}; the peer needs a new one"
            ),
            CertificateProblem::NotYetValid { not_before } => write!(
                f,
                "the peer's certificate is not valid before {not_before}; check both clocks"
            ),
            CertificateProblem::Unreadable => {
                write!(
                    f,
                    "the peer's certificate is not a readable X.509 certificate"
                )
            }
            CertificateProblem::Refused { reason } => {
                write!(f, "the peer's certificate was refused: {reason}")
            }
        }
    }
}

impl std::error::Error for CertificateProblem {}

impl From<CertificateProblem> for Error {
    fn from(problem: CertificateProblem) -> Error {
        // `Other` keeps the problem for the message the user sees (see `TlsFailure`); the peer
        // gets a bad_certificate alert.
        Error::InvalidCertificate(CertificateError::Other(OtherError(Arc::new(problem))))
    }
}

/// What the checks and messages need from a certificate, read with `x509-cert`.
struct CertInfo {
    subject: String,
    issuer: String,
    self_signed: bool,
    is_ca: bool,
    not_before: u64,
    not_after: u64,
    /// DNS names and IP addresses from subjectAltName (`None`: no such extension).
    alt_names: Option<Vec<String>>,
    common_name: Option<String>,
}

impl CertInfo {
    fn read(der: &[u8]) -> Result<CertInfo, CertificateProblem> {
        use x509_cert::ext::pkix::name::GeneralName;
        use x509_cert::ext::pkix::{BasicConstraints, SubjectAltName};
        let cert =
            x509_cert::Certificate::from_der(der).map_err(|_| CertificateProblem::Unreadable)?;
        let tbs = &cert.tbs_certificate;
        let alt_names = match tbs.get::<SubjectAltName>() {
            Ok(Some((_, san))) => Some(
                san.0
                    .iter()
                    .filter_map(|name| match name {
                        GeneralName::DnsName(dns) => Some(dns.to_string()),
                        GeneralName::IpAddress(ip) => ip_text(ip.as_bytes()),
                        _ => None,
                    })
                    .collect(),
            ),
            _ => None,
        };
        let is_ca = matches!(tbs.get::<BasicConstraints>(), Ok(Some((_, bc))) if bc.ca);
        Ok(CertInfo {
            subject: describe_name(&tbs.subject),
            issuer: describe_name(&tbs.issuer),
            self_signed: tbs.subject == tbs.issuer,
            is_ca,
            not_before: tbs.validity.not_before.to_unix_duration().as_secs(),
            not_after: tbs.validity.not_after.to_unix_duration().as_secs(),
            alt_names,
            common_name: common_name(&tbs.subject),
        })
    }
}

fn ip_text(octets: &[u8]) -> Option<String> {
    match octets.len() {
        4 => Some(std::net::Ipv4Addr::from(<[u8; 4]>::try_from(octets).ok()?).to_string()),
        16 => Some(std::net::Ipv6Addr::from(<[u8; 16]>::try_from(octets).ok()?).to_string()),
        _ => None,
    }
}

/// `CN=localhost` and the like; an empty subject as such.
fn describe_name(name: &x509_cert::name::Name) -> String {
    match name.to_string() {
        s if s.is_empty() => "an empty subject".into(),
        s => s,
    }
}

/// The last commonName in `name`, if it is a string.
fn common_name(name: &x509_cert::name::Name) -> Option<String> {
    const CN: x509_cert::der::asn1::ObjectIdentifier =
        x509_cert::der::asn1::ObjectIdentifier::new_unwrap("2.5.4.3");
    name.0
        .iter()
        .flat_map(|rdn| rdn.0.iter())
        .filter(|atv| atv.oid == CN)
        .filter(|atv| {
            matches!(
                atv.value.tag(),
                Tag::Utf8String | Tag::PrintableString | Tag::Ia5String | Tag::TeletexString
            )
        })
        .filter_map(|atv| {
            std::str::from_utf8(atv.value.value())
                .ok()
                .map(String::from)
        })
        .next_back()
}

/// A Unix time as `2026-05-01 12:00:00 UTC`.
fn date(secs: u64) -> String {
    match x509_cert::der::DateTime::from_unix_duration(Duration::from_secs(secs)) {
        Ok(t) => format!(
            "{:04}-{:02}-{:02} {:02}:{:02}:{:02} UTC",
            t.year(),
            t.month(),
            t.day(),
            t.hour(),
            t.minutes(),
            t.seconds()
        ),
        Err(_) => format!("{secs} s after 1970"),
    }
}

/// The trust set as the verifiers use it.
pub(super) struct Verifier {
    /// Certificates trusted as they are (byte-equal to the peer's).
    own: Vec<CertificateDer<'static>>,
    pins: Vec<Fingerprint>,
    /// The same certificates as CA trust anchors for chains.
    roots: Arc<RootCertStore>,
    hints: Vec<DistinguishedName>,
    verify_name: bool,
    insecure: bool,
    provider: Arc<CryptoProvider>,
    /// rustls's client-certificate chain verifier over `roots` (none without roots).
    client_chains: Option<Arc<dyn ClientCertVerifier>>,
}

impl fmt::Debug for Verifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Verifier")
            .field("certificates", &self.own.len())
            .field("pins", &self.pins)
            .field("verify_name", &self.verify_name)
            .field("insecure", &self.insecure)
            .finish()
    }
}

impl Verifier {
    pub(super) fn new(trust: &Trust, provider: Arc<CryptoProvider>) -> Result<Self, TlsError> {
        let mut roots = RootCertStore::empty();
        for cert in &trust.certificates {
            roots.add(cert.clone()).map_err(|e| TlsError::Rustls {
                context: "adding a trusted certificate",
                error: e.to_string(),
            })?;
        }
        let roots = Arc::new(roots);
        let client_chains = if roots.is_empty() {
            None
        } else {
            Some(
                WebPkiClientVerifier::builder_with_provider(roots.clone(), provider.clone())
                    .build()
                    .map_err(|e| TlsError::Rustls {
                        context: "client certificate verifier",
                        error: e.to_string(),
                    })?,
            )
        };
        Ok(Verifier {
            own: trust.certificates.clone(),
            pins: trust.pins.clone(),
            hints: roots.subjects(),
            roots,
            verify_name: trust.verify_name,
            insecure: trust.insecure,
            provider,
            client_chains,
        })
    }

    /// Whether `cert` is trusted as it is: handed over, or pinned.
    fn trusted_as_is(&self, cert: &CertificateDer<'_>) -> bool {
        self.own.iter().any(|c| c.as_ref() == cert.as_ref())
            || (!self.pins.is_empty() && self.pins.contains(&Fingerprint::of(cert)))
    }

    /// A certificate trusted as it is must still be within its dates.
    fn check_dates(info: &CertInfo, now: UnixTime) -> Result<(), CertificateProblem> {
        let now = now.as_secs();
        if now < info.not_before {
            return Err(CertificateProblem::NotYetValid {
                not_before: date(info.not_before),
            });
        }
        if now > info.not_after {
            return Err(CertificateProblem::Expired {
                not_after: date(info.not_after),
            });
        }
        Ok(())
    }

    /// The host check: subjectAltName DNS names and addresses by RFC 6125 (WebPKI's own
    /// matching); a certificate without subjectAltName is matched on its CN, as OpenSSL
    /// does, because `openssl req -subj /CN=host` without `-addext` makes exactly that.
    fn check_name(
        &self,
        cert: &CertificateDer<'_>,
        info: &CertInfo,
        host: &ServerName<'_>,
    ) -> Result<(), CertificateProblem> {
        if !self.verify_name {
            return Ok(());
        }
        let host_text = host.to_str().into_owned();
        let wrong = |names: Vec<String>| CertificateProblem::WrongName {
            host: host_text.clone(),
            names,
        };
        if info.alt_names.is_none() {
            return match &info.common_name {
                Some(cn) if cn.eq_ignore_ascii_case(&host_text) => Ok(()),
                Some(cn) => Err(wrong(vec![cn.clone()])),
                None => Err(wrong(Vec::new())),
            };
        }
        let parsed =
            ParsedCertificate::try_from(cert).map_err(|_| CertificateProblem::Unreadable)?;
        rustls::client::verify_server_name(&parsed, host)
            .map_err(|_| wrong(info.alt_names.clone().unwrap_or_default()))
    }

    /// What a chain verification error means for this certificate.
    fn problem(error: Error, info: &CertInfo, cert: &CertificateDer<'_>) -> CertificateProblem {
        let Error::InvalidCertificate(error) = error else {
            return CertificateProblem::Refused {
                reason: error.to_string(),
            };
        };
        match error {
            CertificateError::ExpiredContext { .. } | CertificateError::Expired => {
                CertificateProblem::Expired {
                    not_after: date(info.not_after),
                }
            }
            CertificateError::NotValidYetContext { .. } | CertificateError::NotValidYet => {
                CertificateProblem::NotYetValid {
                    not_before: date(info.not_before),
                }
            }
            CertificateError::UnknownIssuer => CertificateProblem::UnknownIssuer {
                subject: info.subject.clone(),
                issuer: info.issuer.clone(),
                fingerprint: Fingerprint::of(cert),
            },
            CertificateError::BadEncoding => CertificateProblem::Unreadable,
            CertificateError::BadSignature => CertificateProblem::Refused {
                reason: format!(
                    "its signature does not verify with the key of its issuer {}",
                    info.issuer
                ),
            },
            CertificateError::InvalidPurpose | CertificateError::InvalidPurposeContext { .. } => {
                CertificateProblem::Refused {
                    reason: "its extended key usage does not allow this use (TLS server or \
                             client authentication)"
                        .into(),
                }
            }
            // WebPKI's `CaUsedAsEndEntity` and the like arrive as `Other`.
            CertificateError::Other(_) if info.is_ca => CertificateProblem::Refused {
                reason: format!(
                    "it is a CA certificate (CA:TRUE) used as the peer's own; to trust it as \
                     it is, pass the certificate itself with --tls-ca (or pin it: --tls-pin {})",
                    Fingerprint::of(cert)
                ),
            },
            other => CertificateProblem::Refused {
                reason: Error::InvalidCertificate(other).to_string(),
            },
        }
    }

    /// The checks shared by both sides. `host`: the server name to check (client side).
    fn verify(
        &self,
        end_entity: &CertificateDer<'_>,
        host: Option<&ServerName<'_>>,
        now: UnixTime,
        chain: impl FnOnce() -> Result<(), Error>,
    ) -> Result<(), CertificateProblem> {
        if self.insecure {
            tracing::warn!(
                fingerprint = %Fingerprint::of(end_entity),
                "TLS: accepting the peer's certificate without checking it (--tls-insecure); \
                 anyone can pose as this peer"
            );
            return Ok(());
        }
        let info = CertInfo::read(end_entity)?;
        if self.trusted_as_is(end_entity) {
            Self::check_dates(&info, now)?;
        } else if info.self_signed {
            // No chain can help: WebPKI would say UnknownIssuer or CaUsedAsEndEntity.
            return Err(CertificateProblem::SelfSigned {
                subject: info.subject,
                fingerprint: Fingerprint::of(end_entity),
            });
        } else if self.roots.is_empty() {
            return Err(CertificateProblem::UnknownIssuer {
                subject: info.subject.clone(),
                issuer: info.issuer.clone(),
                fingerprint: Fingerprint::of(end_entity),
            });
        } else {
            chain().map_err(|e| Self::problem(e, &info, end_entity))?;
        }
        match host {
            Some(host) => self.check_name(end_entity, &info, host),
            None => Ok(()),
        }
    }

    fn tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, Error> {
        rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }
}

impl ServerCertVerifier for Verifier {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, Error> {
        let chain = || {
            let parsed = ParsedCertificate::try_from(end_entity)?;
            rustls::client::verify_server_cert_signed_by_trust_anchor(
                &parsed,
                &self.roots,
                intermediates,
                now,
                self.provider.signature_verification_algorithms.all,
            )
        };
        self.verify(end_entity, Some(server_name), now, chain)?;
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, Error> {
        self.tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, Error> {
        self.tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.provider
            .signature_verification_algorithms
            .supported_schemes()
    }
}

impl ClientCertVerifier for Verifier {
    fn root_hint_subjects(&self) -> &[DistinguishedName] {
        &self.hints
    }

    fn verify_client_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        now: UnixTime,
    ) -> Result<ClientCertVerified, Error> {
        let chain = || match &self.client_chains {
            Some(v) => v
                .verify_client_cert(end_entity, intermediates, now)
                .map(drop),
            None => Err(Error::InvalidCertificate(CertificateError::UnknownIssuer)),
        };
        // Client certificates name people or devices, not the address they connect from.
        self.verify(end_entity, None, now, chain)?;
        Ok(ClientCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, Error> {
        self.tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, Error> {
        self.tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.provider
            .signature_verification_algorithms
            .supported_schemes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fingerprints_parse_as_openssl_prints_them() {
        let want = Fingerprint::of(b"password");
        for text in [
            "sha256 Fingerprint=5E:88:48:98:DA:28:04:71:51:D0:E5:6F:8D:C6:29:27:73:60:3D:0D:6A:AB:BD:D6:2A:11:EF:72:1D:15:42:D8",
            "SHA256 Fingerprint=5E:88:48:98:DA:28:04:71:51:D0:E5:6F:8D:C6:29:27:73:60:3D:0D:6A:AB:BD:D6:2A:11:EF:72:1D:15:42:D8",
            "5e884898da28047151d0e56f8dc6292773603d0d6aabbdd62a11ef721d1542d8",
        ] {
            assert_eq!(text.parse::<Fingerprint>().unwrap(), want, "{text}");
        }
        assert_eq!(want.to_string().parse::<Fingerprint>().unwrap(), want);
        for bad in [
            "",
            "5e88",
            "zz884898da28047151d0e56f8dc6292773603d0d6aabbdd62a11ef721d1542d8",
        ] {
            let e = bad.parse::<Fingerprint>().unwrap_err();
            assert!(e.to_string().contains("--tls-pin"), "{e}");
        }
    }

    #[test]
    fn dates_read_as_utc() {
        assert_eq!(date(0), "1970-01-01 00:00:00 UTC");
        assert_eq!(date(1_700_000_000), "2023-11-14 22:13:20 UTC");
    }

    #[test]
    fn problems_say_what_to_do() {
        let wrong = CertificateProblem::WrongName {
            host: "localhost".into(),
            names: vec!["other.example".into()],
        };
        assert_eq!(
            wrong.to_string(),
            "the certificate names other.example, not the host localhost you connected to \
             (--tls-no-verify-name to skip this check)"
        );
        let expired = CertificateProblem::Expired {
            not_after: date(1_700_000_000),
        };
        assert!(expired
            .to_string()
            .starts_with("the peer's certificate expired on 2023-11-14"));
        let fingerprint = Fingerprint::of(b"x");
        let self_signed = CertificateProblem::SelfSigned {
            subject: "CN=localhost".into(),
            fingerprint,
        };
        assert!(self_signed
            .to_string()
            .contains("is self-signed and not in the trust set; pass it with --tls-ca"));
        // The problem survives the trip through rustls's error.
        let Error::InvalidCertificate(CertificateError::Other(other)) = Error::from(wrong.clone())
        else {
            panic!("not an InvalidCertificate");
        };
        assert_eq!(other.0.downcast_ref::<CertificateProblem>(), Some(&wrong));
    }

    /// The crate's example certificate (`localhost-self-signed.pem`: P-256, CA:TRUE,
    /// `/CN=localhost`, subjectAltName `DNS:localhost,IP:127.0.0.1`; its key beside it serves
    /// the doc examples), and a P-256 one with only `/CN=pacs.example` whose key was thrown
    /// away.
    const LOCALHOST: &str = include_str!("localhost-self-signed.pem");
    const CN_ONLY: &str = include_str!("cn-only-self-signed.pem");

    fn der(pem: &str) -> CertificateDer<'static> {
        use rustls::pki_types::pem::PemObject;
        CertificateDer::from_pem_slice(pem.as_bytes()).unwrap()
    }

    fn check(trust: &Trust, cert: &CertificateDer<'_>, host: &str, at: u64) -> Result<(), Error> {
        let verifier = Verifier::new(trust, super::super::provider()).unwrap();
        let name = ServerName::try_from(host.to_string()).unwrap();
        let now = UnixTime::since_unix_epoch(Duration::from_secs(at));
        verifier
            .verify_server_cert(cert, &[], &name, &[], now)
            .map(drop)
    }

    fn problem(result: Result<(), Error>) -> CertificateProblem {
        match result {
            Err(Error::InvalidCertificate(CertificateError::Other(other))) => other
                .0
                .downcast_ref::<CertificateProblem>()
                .expect("a CertificateProblem")
                .clone(),
            other => panic!("expected a certificate problem, got {other:?}"),
        }
    }

    #[test]
    fn a_self_signed_certificate_is_trusted_as_it_is() {
        let cert = der(LOCALHOST);
        let info = CertInfo::read(&cert).unwrap();
        assert!(info.is_ca && info.self_signed, "the recipe makes CA:TRUE");
        let during = info.not_before + 60;
        let mut trust = Trust::new();
        trust.certificates.push(cert.clone());
        check(&trust, &cert, "localhost", during).unwrap();
        check(&trust, &cert, "127.0.0.1", during).unwrap();

        let wrong = problem(check(&trust, &cert, "pacs.example", during));
        assert_eq!(
            wrong,
            CertificateProblem::WrongName {
                host: "pacs.example".into(),
                names: vec!["localhost".into(), "127.0.0.1".into()],
            }
        );
        trust.verify_name = false;
        check(&trust, &cert, "pacs.example", during).unwrap();

        let late = problem(check(&trust, &cert, "localhost", info.not_after + 1));
        assert_eq!(
            late,
            CertificateProblem::Expired {
                not_after: date(info.not_after)
            }
        );
        let early = problem(check(&trust, &cert, "localhost", info.not_before - 1));
        assert!(matches!(early, CertificateProblem::NotYetValid { .. }));
    }

    #[test]
    fn pins_and_strangers() {
        let cert = der(LOCALHOST);
        let during = CertInfo::read(&cert).unwrap().not_before + 60;
        let mut pinned = Trust::new();
        pinned.pins.push(Fingerprint::of(&cert));
        check(&pinned, &cert, "localhost", during).unwrap();

        // Trusting another certificate: this one is a self-signed stranger.
        let mut other = Trust::new();
        other.certificates.push(der(CN_ONLY));
        let stranger = problem(check(&other, &cert, "localhost", during));
        assert_eq!(
            stranger,
            CertificateProblem::SelfSigned {
                subject: "CN=localhost".into(),
                fingerprint: Fingerprint::of(&cert),
            }
        );
        check(&Trust::insecure(), &cert, "anything.example", 0).unwrap();
    }

    #[test]
    fn without_subject_alt_name_the_common_name_is_the_host() {
        let cert = der(CN_ONLY);
        let during = CertInfo::read(&cert).unwrap().not_before + 60;
        let mut trust = Trust::new();
        trust.certificates.push(cert.clone());
        check(&trust, &cert, "pacs.example", during).unwrap();
        check(&trust, &cert, "PACS.example", during).unwrap();
        let wrong = problem(check(&trust, &cert, "localhost", during));
        assert_eq!(
            wrong.to_string(),
            "the certificate names pacs.example, not the host localhost you connected to \
             (--tls-no-verify-name to skip this check)"
        );
    }
}
