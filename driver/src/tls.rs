//! DICOM TLS (PS3.15 B.9, the BCP 195 secure transport profiles): rustls's sans-IO connection
//! run over any [`Transport`], so every adapter gets TLS from the same hundred lines.
//!
//! rustls offers TLS 1.2 and 1.3 with ECDHE and AEAD suites only, which is what the BCP 195
//! and non-downgrading BCP 195 profiles ask for; nothing here weakens that.
//!
//! Whom to trust is a [`Trust`]: certificates handed over (CAs, and peers' own self-signed
//! certificates, trusted as they are, as DCMTK's `+cf` does), SHA-256 [`Fingerprint`] pins,
//! host-name checking (on by default), or nothing checked at all for tests. A refused
//! handshake fails with a [`TlsFailure`] that says what to do.
//!
//! ```
//! use std::time::Duration;
//! use dimse_std::{uid, AcceptorPolicy, Entity, Handler, Scp, Scu, SupportedSyntax};
//! use dimse_std::{ClientTls, Identity, ServerTls, Trust};
//!
//! # // The crate's example key and self-signed certificate (CN=localhost, 127.0.0.1), public
//! # // and for examples only, stand in for every certificate here.
//! # let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src/tls");
//! # let scp_pem = dir.join("localhost-self-signed.pem");
//! # let scp_key = dir.join("localhost-self-signed.key");
//! # let (scu_pem, scu_key, clients_pem) = (scp_pem.clone(), scp_key.clone(), scp_pem.clone());
//! // An SCP with a certificate, requiring client certificates from `clients_pem` (CAs or the
//! // clients' own certificates):
//! let me = Identity::from_pem_files(&scp_pem, &scp_key)?;
//! let mut clients = Trust::new();
//! clients.add_pem(&clients_pem)?;
//! let mut policy = AcceptorPolicy::new("SECURE_SCP");
//! policy.supported.push(SupportedSyntax::uid(uid::VERIFICATION, &[uid::IMPLICIT_VR_LE]));
//! let mut scp = Scp::new(policy, EchoOnly);
//! scp.tls = Some(ServerTls::new(&me, Some(&clients))?);
//! let server = scp.bind("127.0.0.1:0")?.spawn()?;
//!
//! // An SCU trusting the SCP's self-signed certificate and presenting its own:
//! let mut trust = Trust::new();
//! trust.add_pem(&scp_pem)?;
//! let mine = Identity::from_pem_files(&scu_pem, &scu_key)?;
//! let mut scu = Scu::new("ME");
//! scu.tls = Some(ClientTls::new(&trust, Some(&mine))?);
//!
//! let pacs = Entity::new("SECURE_SCP", "localhost", server.local_addr().port());
//! assert!(scu.echo(&pacs)?.is_success());
//! server.shutdown(Duration::from_secs(1));
//!
//! struct EchoOnly;
//! impl Handler for EchoOnly {}
//! # assert_eq!(trust.add_pem(&scp_pem)?, 0, "a certificate is trusted once");
//! # let missing = dir.join("scu.key");
//! # let err = Identity::from_pem_files(&scu_pem, &missing).unwrap_err();
//! # assert!(err.to_string().contains("scu.key: "), "{err}");
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod verify;

use std::fmt;
use std::io::{self, Read, Write};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName};
use rustls::{AlertDescription, ClientConfig, ClientConnection, Connection, ServerConfig};

pub use verify::{CertificateProblem, Fingerprint};

use crate::runtime::Transport;

/// Ciphertext read per call: one full TLS record and its overhead.
const RECORD_READ: usize = 16 * 1024 + 256;

/// Why TLS settings could not be built, and from which file.
#[derive(Debug)]
#[non_exhaustive]
pub enum TlsError {
    /// A PEM file could not be read or parsed.
    Pem {
        /// The file.
        path: PathBuf,
        /// What went wrong.
        error: String,
    },
    /// A certificate file holds no certificate.
    NoCertificate(PathBuf),
    /// A `--tls-pin` value that is not a SHA-256 fingerprint.
    Pin {
        /// The value given.
        value: String,
        /// What is wrong with it.
        reason: String,
    },
    /// Certificates must be verified but nothing is trusted.
    NothingTrusted,
    /// rustls refused the certificates or key (a key that does not match the certificate, an
    /// unsupported key type, a CA file whose certificates are invalid).
    Rustls {
        /// What was being set up.
        context: &'static str,
        /// rustls's reason.
        error: String,
    },
}

impl fmt::Display for TlsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TlsError::Pem { path, error } => write!(f, "{}: {error}", path.display()),
            TlsError::NoCertificate(path) => {
                write!(f, "{}: no PEM certificate there", path.display())
            }
            TlsError::Pin { value, reason } => write!(f, "--tls-pin {value:?}: {reason}"),
            TlsError::NothingTrusted => write!(
                f,
                "no certificate to trust: pass the peers' certificates or their CAs with \
                 --tls-ca, or their fingerprints with --tls-pin"
            ),
            TlsError::Rustls { context, error } => write!(f, "{context}: {error}"),
        }
    }
}

impl std::error::Error for TlsError {}

// rustls 0.23.48 deprecates ring's provider for lacking post-quantum key exchange. BCP 195,
// which DICOM TLS profiles follow, asks for none, and ring keeps the build free of aws-lc's
// much larger C library; the provider itself is unchanged and still maintained.
#[allow(deprecated)]
fn provider() -> Arc<rustls::crypto::CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

fn certificates(path: &Path) -> Result<Vec<CertificateDer<'static>>, TlsError> {
    let pem = |error: rustls::pki_types::pem::Error| TlsError::Pem {
        path: path.to_path_buf(),
        error: error.to_string(),
    };
    let certs = CertificateDer::pem_file_iter(path)
        .map_err(pem)?
        .collect::<Result<Vec<_>, _>>()
        .map_err(pem)?;
    if certs.is_empty() {
        return Err(TlsError::NoCertificate(path.to_path_buf()));
    }
    Ok(certs)
}

fn private_key(path: &Path) -> Result<PrivateKeyDer<'static>, TlsError> {
    PrivateKeyDer::from_pem_file(path).map_err(|error| TlsError::Pem {
        path: path.to_path_buf(),
        error: error.to_string(),
    })
}

fn rustls_error(context: &'static str) -> impl Fn(rustls::Error) -> TlsError {
    move |e| TlsError::Rustls {
        context,
        error: e.to_string(),
    }
}

/// Whom to trust, for an SCU (the SCP's certificate) or an SCP (client certificates).
///
/// A peer's certificate is accepted when it is byte-equal to one of [`Trust::certificates`]
/// or its SHA-256 is one of [`Trust::pins`] (then only its dates and, on the SCU side, the
/// host name are checked: the usual self-signed `CA:TRUE` site certificate works), or when it
/// chains to one of the certificates as a CA (WebPKI rules). The handshake signature is
/// always checked, so the peer must hold the certificate's key.
///
/// ```
/// use dimse_driver::{Fingerprint, Trust};
///
/// let mut trust = Trust::new();
/// trust.pins.push(Fingerprint::of(b"a certificate's DER bytes"));
/// trust.verify_name = false; // --tls-no-verify-name
/// assert!(!trust.is_empty());
/// ```
#[derive(Clone, Debug)]
pub struct Trust {
    /// Trusted certificates: CAs, and peers' own certificates.
    pub certificates: Vec<CertificateDer<'static>>,
    /// Certificates trusted by fingerprint.
    pub pins: Vec<Fingerprint>,
    /// Whether an SCP's certificate must name the host connected to (default: yes).
    pub verify_name: bool,
    /// Accept any certificate without checking it (DCMTK `-ic`): for tests only, and warned
    /// about on every handshake.
    pub insecure: bool,
}

impl Default for Trust {
    fn default() -> Self {
        Trust {
            certificates: Vec::new(),
            pins: Vec::new(),
            verify_name: true,
            insecure: false,
        }
    }
}

impl Trust {
    /// Nothing trusted yet; host names checked.
    pub fn new() -> Self {
        Trust::default()
    }

    /// The operating system's CAs, from the first bundle found where Debian, Fedora, Alpine
    /// and others keep it.
    pub fn system() -> Result<Self, TlsError> {
        const BUNDLES: [&str; 4] = [
            "/etc/ssl/certs/ca-certificates.crt",
            "/etc/pki/tls/certs/ca-bundle.crt",
            "/etc/ssl/cert.pem",
            "/etc/ssl/ca-bundle.pem",
        ];
        match BUNDLES.iter().map(Path::new).find(|p| p.exists()) {
            Some(bundle) => {
                let mut trust = Trust::new();
                trust.add_pem(bundle)?;
                Ok(trust)
            }
            None => Err(TlsError::Pem {
                path: PathBuf::from(BUNDLES[0]),
                error: "no system CA bundle found; name the certificates to trust".into(),
            }),
        }
    }

    /// Accept every certificate (see [`Trust::insecure`]).
    pub fn insecure() -> Self {
        Trust {
            insecure: true,
            ..Trust::default()
        }
    }

    /// Trust every certificate in the PEM file `path`, or, if `path` is a directory, in every
    /// PEM file in it (DCMTK `+cf`, `+cd`; files without a certificate, such as keys, are
    /// skipped). Returns how many certificates were added.
    pub fn add_pem(&mut self, path: &Path) -> Result<usize, TlsError> {
        let found = if path.is_dir() {
            let entries = std::fs::read_dir(path).map_err(|e| TlsError::Pem {
                path: path.to_path_buf(),
                error: e.to_string(),
            })?;
            let mut files: Vec<PathBuf> = entries
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| p.is_file())
                .collect();
            files.sort();
            let mut found = Vec::new();
            for file in files {
                match certificates(&file) {
                    Ok(certs) => found.extend(certs),
                    // Keys, READMEs and DER files live beside PEM certificates.
                    Err(e) => tracing::debug!(error = %e, "skipped: no PEM certificate"),
                }
            }
            if found.is_empty() {
                return Err(TlsError::NoCertificate(path.to_path_buf()));
            }
            found
        } else {
            certificates(path)?
        };
        let mut added = 0;
        for cert in found {
            if !self.certificates.contains(&cert) {
                self.certificates.push(cert);
                added += 1;
            }
        }
        Ok(added)
    }

    /// Whether nothing at all is trusted (and [`Trust::insecure`] is off).
    pub fn is_empty(&self) -> bool {
        self.certificates.is_empty() && self.pins.is_empty() && !self.insecure
    }

    fn verifier(&self) -> Result<Arc<verify::Verifier>, TlsError> {
        if self.is_empty() {
            return Err(TlsError::NothingTrusted);
        }
        Ok(Arc::new(verify::Verifier::new(self, provider())?))
    }
}

/// A certificate chain and its private key: what an SCP presents, and what an SCU presents
/// when the SCP asks for a client certificate.
///
/// ```
/// use std::path::Path;
/// use dimse_driver::{Identity, TlsError};
///
/// # let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("src/tls");
/// # // The crate's example (public) key and its self-signed certificate, CN=localhost.
/// # let (cert, key) = (dir.join("localhost-self-signed.pem"), dir.join("localhost-self-signed.key"));
/// let me = Identity::from_pem_files(&cert, &key)?;
/// println!("peers pin {}", me.fingerprint());
///
/// // A key file that is missing, or holds no private key, is named in the error.
/// let err = Identity::from_pem_files(&cert, &cert).unwrap_err();
/// assert!(matches!(&err, TlsError::Pem { path, .. } if *path == cert), "{err}");
/// # let err = Identity::from_pem_files(&cert, Path::new("key.pem")).unwrap_err();
/// # assert!(err.to_string().starts_with("key.pem: "), "{err}");
/// # Ok::<(), TlsError>(())
/// ```
pub struct Identity {
    chain: Vec<CertificateDer<'static>>,
    key: PrivateKeyDer<'static>,
}

impl Identity {
    /// The certificate (chain, leaf first) and private key from PEM files.
    pub fn from_pem_files(cert: &Path, key: &Path) -> Result<Self, TlsError> {
        Ok(Identity {
            chain: certificates(cert)?,
            key: private_key(key)?,
        })
    }

    /// The SHA-256 fingerprint of the leaf certificate (what a peer pins).
    pub fn fingerprint(&self) -> Fingerprint {
        Fingerprint::of(&self.chain[0])
    }
}

impl Clone for Identity {
    fn clone(&self) -> Self {
        Identity {
            chain: self.chain.clone(),
            key: self.key.clone_key(),
        }
    }
}

impl fmt::Debug for Identity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Identity")
            .field("fingerprint", &self.fingerprint())
            .finish_non_exhaustive()
    }
}

/// An SCP's TLS settings: its certificate and key, and whether (and whom) it asks for client
/// certificates. Cheap to clone.
///
/// ```
/// use std::path::Path;
/// use dimse_driver::{Identity, ServerTls, TlsError};
///
/// # let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("src/tls");
/// # // The crate's example (public) key and its self-signed certificate, CN=localhost.
/// # let (cert, key) = (dir.join("localhost-self-signed.pem"), dir.join("localhost-self-signed.key"));
/// let me = Identity::from_pem_files(&cert, &key)?;
/// let tls = ServerTls::new(&me, None)?; // no client certificates asked for
/// # let _ = tls;
///
/// // A certificate without its key is no server identity; the error names the file.
/// let err = ServerTls::from_pem_files(&cert, &cert, None).unwrap_err();
/// assert!(matches!(&err, TlsError::Pem { path, .. } if *path == cert), "{err}");
/// # let err = ServerTls::from_pem_files(&cert, Path::new("key.pem"), None).unwrap_err();
/// # assert!(matches!(&err, TlsError::Pem { path, .. } if path == Path::new("key.pem")));
/// # Ok::<(), TlsError>(())
/// ```
#[derive(Clone)]
pub struct ServerTls(Arc<ServerConfig>);

impl ServerTls {
    /// Present `identity`; with `clients`, require every client to present a certificate
    /// that `clients` trusts (mutual TLS).
    pub fn new(identity: &Identity, clients: Option<&Trust>) -> Result<Self, TlsError> {
        let builder = ServerConfig::builder_with_provider(provider())
            .with_safe_default_protocol_versions()
            .map_err(rustls_error("choosing TLS versions"))?;
        let builder = match clients {
            Some(trust) => builder.with_client_cert_verifier(trust.verifier()?),
            None => builder.with_no_client_auth(),
        };
        let identity = identity.clone();
        let config = builder
            .with_single_cert(identity.chain, identity.key)
            .map_err(rustls_error("server certificate and key"))?;
        Ok(ServerTls(Arc::new(config)))
    }

    /// Certificate chain and private key from PEM files. With `client_ca`, every client must
    /// present a certificate that file trusts: signed by a CA in it, or one of its
    /// certificates itself (mutual TLS).
    pub fn from_pem_files(
        cert: &Path,
        key: &Path,
        client_ca: Option<&Path>,
    ) -> Result<Self, TlsError> {
        let identity = Identity::from_pem_files(cert, key)?;
        let clients = match client_ca {
            Some(ca) => {
                let mut trust = Trust::new();
                trust.add_pem(ca)?;
                Some(trust)
            }
            None => None,
        };
        ServerTls::new(&identity, clients.as_ref())
    }

    /// Settings built with rustls directly (other providers, verifiers, session caches).
    pub fn from_config(config: Arc<ServerConfig>) -> Self {
        ServerTls(config)
    }

    /// Run the server side of a handshake over `stream`, giving up at `deadline`.
    pub async fn accept<S: Transport>(
        &self,
        stream: S,
        deadline: Instant,
    ) -> io::Result<TlsStream<S>> {
        let conn = rustls::ServerConnection::new(self.0.clone()).map_err(io::Error::other)?;
        TlsStream::handshake(stream, conn.into(), Role::Server, deadline).await
    }
}

impl fmt::Debug for ServerTls {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ServerTls").finish_non_exhaustive()
    }
}

/// An SCU's TLS settings: whom it trusts, and the certificate it presents if the SCP asks for
/// one. Cheap to clone.
///
/// ```
/// use std::path::Path;
/// use dimse_driver::{ClientTls, TlsError, Trust};
///
/// // Trust the SCP's own (self-signed) certificate, as `--tls-ca scp.pem` does:
/// let scp_pem = Path::new("scp.pem");
/// # // The crate's self-signed test certificate, CN=localhost.
/// # let scp_pem = Path::new(env!("CARGO_MANIFEST_DIR")).join("src/tls/localhost-self-signed.pem");
/// # let scp_pem = scp_pem.as_path();
/// let mut trust = Trust::new();
/// trust.add_pem(scp_pem).unwrap();
/// let tls = ClientTls::new(&trust, None).unwrap();
/// # assert_eq!(trust.certificates.len(), 1);
/// # assert!(trust.verify_name, "the SCP's certificate must name the host by default");
/// # assert!(format!("{tls:?}").contains("presents_certificate: false"));
/// # // Trusting nothing is refused up front, with what to do about it.
/// # let nothing = ClientTls::new(&Trust::new(), None).unwrap_err();
/// # assert!(matches!(nothing, TlsError::NothingTrusted));
/// # assert!(nothing.to_string().contains("--tls-ca"));
/// ```
#[derive(Clone)]
pub struct ClientTls {
    config: Arc<ClientConfig>,
    /// Whether a client certificate is configured (for the message when the SCP wants one).
    presents_certificate: bool,
}

impl ClientTls {
    /// Trust what `trust` says; with `identity`, present that certificate to SCPs that ask
    /// for one.
    pub fn new(trust: &Trust, identity: Option<&Identity>) -> Result<Self, TlsError> {
        let builder = ClientConfig::builder_with_provider(provider())
            .with_safe_default_protocol_versions()
            .map_err(rustls_error("choosing TLS versions"))?
            .dangerous()
            .with_custom_certificate_verifier(trust.verifier()?);
        let config = match identity.cloned() {
            Some(identity) => builder
                .with_client_auth_cert(identity.chain, identity.key)
                .map_err(rustls_error("client certificate and key"))?,
            None => builder.with_no_client_auth(),
        };
        Ok(ClientTls {
            config: Arc::new(config),
            presents_certificate: identity.is_some(),
        })
    }

    /// Trust the certificates in `ca` (PEM: CAs, or the SCP's own certificate); without it,
    /// the operating system's CAs. With `identity` (certificate chain, private key), present
    /// that certificate to SCPs that require one.
    pub fn from_pem_files(
        ca: Option<&Path>,
        identity: Option<(&Path, &Path)>,
    ) -> Result<Self, TlsError> {
        let trust = match ca {
            Some(ca) => {
                let mut trust = Trust::new();
                trust.add_pem(ca)?;
                trust
            }
            None => Trust::system()?,
        };
        let identity = identity
            .map(|(cert, key)| Identity::from_pem_files(cert, key))
            .transpose()?;
        ClientTls::new(&trust, identity.as_ref())
    }

    /// Settings built with rustls directly.
    pub fn from_config(config: Arc<ClientConfig>) -> Self {
        let presents_certificate = config.client_auth_cert_resolver.has_certs();
        ClientTls {
            config,
            presents_certificate,
        }
    }

    /// Run the client side of a handshake with `host` over `stream`, giving up at `deadline`.
    /// The server's certificate must name `host` (a DNS name or an IP address) unless the
    /// [`Trust`] says otherwise.
    pub async fn connect<S: Transport>(
        &self,
        host: &str,
        stream: S,
        deadline: Instant,
    ) -> io::Result<TlsStream<S>> {
        let name = ServerName::try_from(host.to_string())
            .map_err(|e| io::Error::new(io::ErrorKind::InvalidInput, e))?;
        let conn = ClientConnection::new(self.config.clone(), name).map_err(io::Error::other)?;
        let role = Role::Client {
            presents_certificate: self.presents_certificate,
        };
        TlsStream::handshake(stream, conn.into(), role, deadline).await
    }
}

impl fmt::Debug for ClientTls {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientTls")
            .field("presents_certificate", &self.presents_certificate)
            .finish_non_exhaustive()
    }
}

/// Which end of the connection we are, for messages.
#[derive(Clone, Copy, Debug)]
enum Role {
    Client { presents_certificate: bool },
    Server,
}

/// Why a TLS connection failed, in terms of what to do about it. The `io::Error`s of a failed
/// handshake (or of a connection the peer ended with an alert) carry one: reach it with
/// `io::Error::get_ref` and `downcast_ref`.
#[derive(Debug)]
#[non_exhaustive]
pub enum TlsFailure {
    /// We refused the peer's certificate.
    PeerCertificate(CertificateProblem),
    /// The SCP requires a client certificate and we have none configured.
    CertificateRequired,
    /// The peer refused the certificate we presented.
    OurCertificateRefused {
        /// The TLS alert it sent.
        alert: AlertDescription,
        /// Whether we are the SCU (a client certificate) or the SCP (the server's).
        as_client: bool,
    },
    /// A client connected without the certificate this SCP requires.
    NoClientCertificate,
    /// The peer does not speak TLS (a plain DICOM port, or plain DICOM on a TLS port).
    NotTls {
        /// Whether we are the SCU.
        as_client: bool,
    },
    /// The peer ended the handshake with an alert not covered above.
    Alert(AlertDescription),
    /// Any other TLS error.
    Other(rustls::Error),
}

impl TlsFailure {
    fn new(error: rustls::Error, role: Role) -> TlsFailure {
        use rustls::{CertificateError, Error};
        let as_client = matches!(role, Role::Client { .. });
        match error {
            Error::InvalidCertificate(CertificateError::Other(ref other)) => {
                match other.0.downcast_ref::<CertificateProblem>() {
                    Some(problem) => TlsFailure::PeerCertificate(problem.clone()),
                    None => TlsFailure::Other(error),
                }
            }
            Error::NoCertificatesPresented => TlsFailure::NoClientCertificate,
            // A DICOM PDU (types 1 to 7) read as a TLS record: no TLS content type.
            Error::InvalidMessage(rustls::InvalidMessage::InvalidContentType) => {
                TlsFailure::NotTls { as_client }
            }
            Error::AlertReceived(alert) => match (role, alert) {
                (
                    Role::Client {
                        presents_certificate: false,
                    },
                    AlertDescription::CertificateRequired,
                ) => TlsFailure::CertificateRequired,
                (
                    _,
                    AlertDescription::BadCertificate
                    | AlertDescription::UnsupportedCertificate
                    | AlertDescription::CertificateRevoked
                    | AlertDescription::CertificateExpired
                    | AlertDescription::CertificateUnknown
                    | AlertDescription::UnknownCA,
                ) => TlsFailure::OurCertificateRefused { alert, as_client },
                (
                    Role::Client {
                        presents_certificate: true,
                    },
                    AlertDescription::DecryptError | AlertDescription::AccessDenied,
                ) => TlsFailure::OurCertificateRefused { alert, as_client },
                _ => TlsFailure::Alert(alert),
            },
            other => TlsFailure::Other(other),
        }
    }
}

impl fmt::Display for TlsFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TlsFailure::PeerCertificate(problem) => problem.fmt(f),
            TlsFailure::CertificateRequired => write!(
                f,
                "the peer requires a client certificate; pass --tls-cert and --tls-key"
            ),
            TlsFailure::OurCertificateRefused {
                alert,
                as_client: true,
            } => write!(
                f,
                "the peer refused our client certificate ({alert:?}); it must trust it \
                 (DCMTK: +cf with our certificate, or its CA)"
            ),
            TlsFailure::OurCertificateRefused {
                alert,
                as_client: false,
            } => write!(
                f,
                "the client refused our certificate ({alert:?}); it must trust it (DCMTK: \
                 +cf with our certificate; pynetdicom: the SSLContext's cafile)"
            ),
            TlsFailure::NoClientCertificate => write!(
                f,
                "the client presented no certificate, and one is required \
                 (--tls-require-client-cert)"
            ),
            TlsFailure::NotTls { as_client: true } => write!(
                f,
                "the peer did not answer in TLS: is that its TLS port? (leave out --tls for \
                 a plain DICOM port)"
            ),
            TlsFailure::NotTls { as_client: false } => write!(
                f,
                "the client did not speak TLS (plain DICOM sent to the TLS port?)"
            ),
            TlsFailure::Alert(AlertDescription::HandshakeFailure) => write!(
                f,
                "the peer ended the handshake (handshake_failure): it may require a client \
                 certificate (--tls-cert, --tls-key) or share no TLS version or cipher suite \
                 with us (BCP 195: TLS 1.2 or later, ECDHE with AES-GCM or ChaCha20)"
            ),
            TlsFailure::Alert(alert) => write!(f, "the peer ended TLS with the alert {alert:?}"),
            TlsFailure::Other(e) => e.fmt(f),
        }
    }
}

impl std::error::Error for TlsFailure {}

/// A [`Transport`] carrying TLS records: plaintext in and out, ciphertext on `S`.
pub struct TlsStream<S> {
    io: S,
    tls: Connection,
    /// Ciphertext rustls produced that the transport has not taken yet (kept here, not in a
    /// future, so a dropped write loses nothing).
    out: Vec<u8>,
    sent: usize,
    /// Ciphertext read from the transport; `scratch[taken..filled]` is not yet given to
    /// rustls, which holds only so much decrypted plaintext at once.
    scratch: Box<[u8]>,
    taken: usize,
    filled: usize,
    eof: bool,
    role: Role,
}

impl<S: Transport> TlsStream<S> {
    async fn handshake(io: S, tls: Connection, role: Role, deadline: Instant) -> io::Result<Self> {
        let mut s = TlsStream {
            io,
            tls,
            out: Vec::new(),
            sent: 0,
            scratch: vec![0; RECORD_READ].into_boxed_slice(),
            taken: 0,
            filled: 0,
            eof: false,
            role,
        };
        while s.tls.is_handshaking() {
            s.send_pending().await?;
            if !s.tls.is_handshaking() {
                break;
            }
            if s.taken < s.filled {
                s.take_ciphertext().await?;
                continue;
            }
            match s.io.read(&mut s.scratch, Some(deadline)).await? {
                None => {
                    return Err(io::Error::new(
                        io::ErrorKind::TimedOut,
                        "TLS handshake timed out",
                    ))
                }
                Some(0) => {
                    return Err(io::Error::new(
                        io::ErrorKind::UnexpectedEof,
                        "peer closed the connection during the TLS handshake",
                    ))
                }
                Some(n) => s.received(n),
            }
        }
        s.send_pending().await?;
        Ok(s)
    }

    /// The peer's certificate chain, once the handshake is done (for SCPs that map client
    /// certificates to users).
    pub fn peer_certificates(&self) -> Option<&[CertificateDer<'static>]> {
        self.tls.peer_certificates()
    }

    /// Write every TLS record rustls has ready.
    async fn send_pending(&mut self) -> io::Result<()> {
        loop {
            if self.sent == self.out.len() {
                self.out.clear();
                self.sent = 0;
                if !self.tls.wants_write() {
                    return Ok(());
                }
                self.tls.write_tls(&mut self.out)?;
                continue;
            }
            match self.io.write(&self.out[self.sent..], &[]).await? {
                0 => return Err(io::ErrorKind::WriteZero.into()),
                n => self.sent += n,
            }
        }
    }

    /// `n` bytes of ciphertext arrived in `scratch` (0: the transport ended).
    fn received(&mut self, n: usize) {
        self.taken = 0;
        self.filled = n;
        if n == 0 {
            self.eof = true;
        }
    }

    /// Decrypt what has arrived, or until plaintext is waiting. A TLS error is sent to the
    /// peer as an alert, then returned.
    async fn take_ciphertext(&mut self) -> io::Result<()> {
        match self.decrypt() {
            Ok(()) => Ok(()),
            Err(e) => {
                let _ = self.send_pending().await;
                Err(e)
            }
        }
    }

    fn decrypt(&mut self) -> io::Result<()> {
        if self.eof && self.taken == self.filled {
            // Zero bytes tell rustls the transport ended, which it must know to tell a
            // truncation attack from a clean close.
            self.tls.read_tls(&mut &[][..])?;
            self.process()?;
            return Ok(());
        }
        while self.taken < self.filled {
            let mut input = &self.scratch[self.taken..self.filled];
            self.taken += self.tls.read_tls(&mut input)?;
            if self.process()? > 0 {
                // rustls holds a bounded amount of plaintext: hand this out first.
                break;
            }
        }
        Ok(())
    }

    /// Let rustls process what it was given: the decrypted bytes now waiting.
    fn process(&mut self) -> io::Result<usize> {
        let state = self.tls.process_new_packets().map_err(|e| {
            io::Error::new(io::ErrorKind::InvalidData, TlsFailure::new(e, self.role))
        })?;
        Ok(state.plaintext_bytes_to_read())
    }

    /// Plaintext rustls has decrypted: `Some(0)` at the end of the stream.
    fn plaintext(&mut self, buf: &mut [u8]) -> io::Result<Option<usize>> {
        match self.tls.reader().read(buf) {
            Ok(n) => Ok(Some(n)),
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => Ok(self.eof.then_some(0)),
            // The peer closed TCP without close_notify: for DICOM that is an ordinary end of
            // stream (the upper layer decides whether it was expected).
            Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => Ok(Some(0)),
            Err(e) => Err(e),
        }
    }
}

impl<S: Transport> Transport for TlsStream<S> {
    async fn read(
        &mut self,
        buf: &mut [u8],
        deadline: Option<Instant>,
    ) -> io::Result<Option<usize>> {
        loop {
            if let Some(n) = self.plaintext(buf)? {
                return Ok(Some(n));
            }
            if self.taken == self.filled && !self.eof {
                self.send_pending().await?;
                match self.io.read(&mut self.scratch, deadline).await? {
                    None => return Ok(None),
                    Some(n) => self.received(n),
                }
            }
            self.take_ciphertext().await?;
            // Reading may have produced records to send (a key update, an alert).
            self.send_pending().await?;
        }
    }

    fn try_read(&mut self, buf: &mut [u8]) -> io::Result<Option<usize>> {
        loop {
            if let Some(n) = self.plaintext(buf)? {
                return Ok(Some(n));
            }
            if self.taken == self.filled && !self.eof {
                match self.io.try_read(&mut self.scratch)? {
                    None => return Ok(None),
                    Some(n) => self.received(n),
                }
            }
            self.decrypt()?;
        }
    }

    async fn write(&mut self, head: &[u8], body: &[u8]) -> io::Result<usize> {
        self.send_pending().await?;
        let n = {
            let mut writer = self.tls.writer();
            let mut n = writer.write(head)?;
            if n == head.len() {
                n += writer.write(body)?;
            }
            n
        };
        self.send_pending().await?;
        Ok(n)
    }

    async fn shutdown(&mut self) {
        self.tls.send_close_notify();
        let _ = self.send_pending().await;
        self.io.shutdown().await;
    }

    fn peer_addr(&self) -> Option<SocketAddr> {
        self.io.peer_addr()
    }
}

/// A connection as the driver holds it: plain TCP, or TLS over it.
pub enum Link<S> {
    /// Without TLS.
    Plain(S),
    /// With TLS.
    Tls(Box<TlsStream<S>>),
}

impl<S: Transport> Transport for Link<S> {
    async fn read(
        &mut self,
        buf: &mut [u8],
        deadline: Option<Instant>,
    ) -> io::Result<Option<usize>> {
        match self {
            Link::Plain(s) => s.read(buf, deadline).await,
            Link::Tls(s) => s.read(buf, deadline).await,
        }
    }

    fn try_read(&mut self, buf: &mut [u8]) -> io::Result<Option<usize>> {
        match self {
            Link::Plain(s) => s.try_read(buf),
            Link::Tls(s) => s.try_read(buf),
        }
    }

    async fn write(&mut self, head: &[u8], body: &[u8]) -> io::Result<usize> {
        match self {
            Link::Plain(s) => s.write(head, body).await,
            Link::Tls(s) => s.write(head, body).await,
        }
    }

    async fn shutdown(&mut self) {
        match self {
            Link::Plain(s) => s.shutdown().await,
            Link::Tls(s) => s.shutdown().await,
        }
    }

    fn peer_addr(&self) -> Option<SocketAddr> {
        match self {
            Link::Plain(s) => s.peer_addr(),
            Link::Tls(s) => s.peer_addr(),
        }
    }
}
