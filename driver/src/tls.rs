//! DICOM TLS (PS3.15 B.9, the BCP 195 secure transport profiles): rustls's sans-IO connection
//! run over any [`Transport`], so every adapter gets TLS from the same hundred lines.
//!
//! rustls offers TLS 1.2 and 1.3 with ECDHE and AEAD suites only, which is what the BCP 195
//! and non-downgrading BCP 195 profiles ask for; nothing here weakens that.
//!
//! ```no_run
//! use std::path::Path;
//! use dimse_driver::{ClientTls, ServerTls};
//!
//! // An SCP with a certificate, requiring client certificates signed by `ca.pem`:
//! let server = ServerTls::from_pem_files(
//!     Path::new("scp.pem"), Path::new("scp.key"), Some(Path::new("ca.pem"))).unwrap();
//! // An SCU trusting that CA and presenting its own certificate:
//! let client = ClientTls::from_pem_files(
//!     Some(Path::new("ca.pem")), Some((Path::new("scu.pem"), Path::new("scu.key")))).unwrap();
//! # let _ = (server, client);
//! ```

use std::fmt;
use std::io::{self, Read, Write};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName};
use rustls::server::WebPkiClientVerifier;
use rustls::{ClientConfig, ClientConnection, Connection, RootCertStore, ServerConfig};

use crate::runtime::Transport;

/// Ciphertext read per call: one full TLS record and its overhead.
const RECORD_READ: usize = 16 * 1024 + 256;

/// Why TLS settings could not be built, and from which file.
#[derive(Debug)]
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
                write!(f, "{}: no PEM certificate in the file", path.display())
            }
            TlsError::Rustls { context, error } => write!(f, "{context}: {error}"),
        }
    }
}

impl std::error::Error for TlsError {}

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

fn roots(path: &Path) -> Result<RootCertStore, TlsError> {
    let mut store = RootCertStore::empty();
    for cert in certificates(path)? {
        store.add(cert).map_err(|e| TlsError::Rustls {
            context: "adding a trusted CA certificate",
            error: e.to_string(),
        })?;
    }
    Ok(store)
}

fn rustls_error(context: &'static str) -> impl Fn(rustls::Error) -> TlsError {
    move |e| TlsError::Rustls {
        context,
        error: e.to_string(),
    }
}

/// An SCP's TLS settings: its certificate and key, and whether (and whom) it asks for client
/// certificates. Cheap to clone.
#[derive(Clone)]
pub struct ServerTls(Arc<ServerConfig>);

impl ServerTls {
    /// Certificate chain and private key from PEM files. With `client_ca`, every client must
    /// present a certificate signed by one of the CAs in that file (mutual TLS).
    pub fn from_pem_files(
        cert: &Path,
        key: &Path,
        client_ca: Option<&Path>,
    ) -> Result<Self, TlsError> {
        let builder = ServerConfig::builder_with_provider(provider())
            .with_safe_default_protocol_versions()
            .map_err(rustls_error("choosing TLS versions"))?;
        let builder = match client_ca {
            Some(ca) => {
                let verifier =
                    WebPkiClientVerifier::builder_with_provider(Arc::new(roots(ca)?), provider())
                        .build()
                        .map_err(|e| TlsError::Rustls {
                            context: "client certificate verifier",
                            error: e.to_string(),
                        })?;
                builder.with_client_cert_verifier(verifier)
            }
            None => builder.with_no_client_auth(),
        };
        let config = builder
            .with_single_cert(certificates(cert)?, private_key(key)?)
            .map_err(rustls_error("server certificate and key"))?;
        Ok(ServerTls(Arc::new(config)))
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
        TlsStream::handshake(stream, conn.into(), deadline).await
    }
}

impl fmt::Debug for ServerTls {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ServerTls").finish_non_exhaustive()
    }
}

/// An SCU's TLS settings: whom it trusts, and the certificate it presents if the SCP asks for
/// one. Cheap to clone.
#[derive(Clone)]
pub struct ClientTls(Arc<ClientConfig>);

impl ClientTls {
    /// Trust the CAs in `ca` (PEM); without it, the operating system's trusted CAs (read from
    /// the usual bundle locations). With `identity` (certificate chain, private key), present
    /// that certificate to SCPs that require one.
    pub fn from_pem_files(
        ca: Option<&Path>,
        identity: Option<(&Path, &Path)>,
    ) -> Result<Self, TlsError> {
        let roots = match ca {
            Some(ca) => roots(ca)?,
            None => system_roots()?,
        };
        let builder = ClientConfig::builder_with_provider(provider())
            .with_safe_default_protocol_versions()
            .map_err(rustls_error("choosing TLS versions"))?
            .with_root_certificates(roots);
        let config = match identity {
            Some((cert, key)) => builder
                .with_client_auth_cert(certificates(cert)?, private_key(key)?)
                .map_err(rustls_error("client certificate and key"))?,
            None => builder.with_no_client_auth(),
        };
        Ok(ClientTls(Arc::new(config)))
    }

    /// Settings built with rustls directly.
    pub fn from_config(config: Arc<ClientConfig>) -> Self {
        ClientTls(config)
    }

    /// Run the client side of a handshake with `host` over `stream`, giving up at `deadline`.
    /// The server's certificate must name `host` (a DNS name or an IP address).
    pub async fn connect<S: Transport>(
        &self,
        host: &str,
        stream: S,
        deadline: Instant,
    ) -> io::Result<TlsStream<S>> {
        let name = ServerName::try_from(host.to_string())
            .map_err(|e| io::Error::new(io::ErrorKind::InvalidInput, e))?;
        let conn = ClientConnection::new(self.0.clone(), name).map_err(io::Error::other)?;
        TlsStream::handshake(stream, conn.into(), deadline).await
    }
}

impl fmt::Debug for ClientTls {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientTls").finish_non_exhaustive()
    }
}

/// The first CA bundle found where Debian, Fedora, Alpine and others keep it.
fn system_roots() -> Result<RootCertStore, TlsError> {
    const BUNDLES: [&str; 4] = [
        "/etc/ssl/certs/ca-certificates.crt",
        "/etc/pki/tls/certs/ca-bundle.crt",
        "/etc/ssl/cert.pem",
        "/etc/ssl/ca-bundle.pem",
    ];
    match BUNDLES.iter().map(Path::new).find(|p| p.exists()) {
        Some(bundle) => roots(bundle),
        None => Err(TlsError::Pem {
            path: PathBuf::from(BUNDLES[0]),
            error: "no system CA bundle found; name the CA file to trust".into(),
        }),
    }
}

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
}

impl<S: Transport> TlsStream<S> {
    async fn handshake(io: S, tls: Connection, deadline: Instant) -> io::Result<Self> {
        let mut s = TlsStream {
            io,
            tls,
            out: Vec::new(),
            sent: 0,
            scratch: vec![0; RECORD_READ].into_boxed_slice(),
            taken: 0,
            filled: 0,
            eof: false,
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
        let state = self
            .tls
            .process_new_packets()
            .map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))?;
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
