//! Certificates for the TLS tests, made with the `openssl` command-line tool: a CA, a server
//! certificate for `localhost` and 127.0.0.1, a client certificate, and a second CA whose
//! certificates nobody trusts.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// PEM files in one directory.
#[derive(Debug, Clone)]
pub struct TlsFiles {
    /// The CA that signed the server and client certificates.
    pub ca: PathBuf,
    /// Server certificate (names `localhost` and 127.0.0.1) and key.
    pub server_cert: PathBuf,
    /// The server's private key.
    pub server_key: PathBuf,
    /// Client certificate and key.
    pub client_cert: PathBuf,
    /// The client's private key.
    pub client_key: PathBuf,
    /// A CA that nobody trusts.
    pub other_ca: PathBuf,
    /// A certificate and key signed by that CA.
    pub stranger_cert: PathBuf,
    /// The stranger's private key.
    pub stranger_key: PathBuf,
}

fn openssl(dir: &Path, args: &[String]) {
    let out = Command::new("openssl")
        .args(args)
        .current_dir(dir)
        .stdin(Stdio::null())
        .output()
        .unwrap_or_else(|e| panic!("cannot run openssl (apt-get install openssl): {e}"));
    assert!(
        out.status.success(),
        "openssl {}: {}",
        args.join(" "),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// `openssl req` arguments for a new P-256 key, unencrypted, written to `key`.
fn new_key(key: &str) -> Vec<String> {
    [
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:P-256",
        "-nodes",
        "-keyout",
        key,
    ]
    .map(String::from)
    .to_vec()
}

/// A CA key and self-signed certificate `name.key`, `name.pem`.
fn ca(dir: &Path, name: &str) {
    let mut args = vec!["req".to_string(), "-x509".into()];
    args.extend(new_key(&format!("{name}.key")));
    args.extend([
        "-out".into(),
        format!("{name}.pem"),
        "-days".into(),
        "2".into(),
    ]);
    args.extend(["-subj".into(), format!("/CN=dimse test {name}")]);
    openssl(dir, &args);
}

/// A leaf key and certificate `name.key`, `name.pem` signed by `ca`.
fn leaf(dir: &Path, name: &str, ca: &str) {
    let csr = format!("{name}.csr");
    let mut args = vec!["req".to_string()];
    args.extend(new_key(&format!("{name}.key")));
    args.extend([
        "-out".into(),
        csr.clone(),
        "-subj".into(),
        format!("/CN={name}"),
    ]);
    openssl(dir, &args);
    let ext = format!("{name}.ext");
    std::fs::write(
        dir.join(&ext),
        "subjectAltName=DNS:localhost,IP:127.0.0.1\nbasicConstraints=CA:FALSE\n\
         keyUsage=digitalSignature\nextendedKeyUsage=serverAuth,clientAuth\n",
    )
    .unwrap();
    let args = [
        "x509",
        "-req",
        "-in",
        &csr,
        "-CA",
        &format!("{ca}.pem"),
        "-CAkey",
        &format!("{ca}.key"),
        "-CAcreateserial",
        "-out",
        &format!("{name}.pem"),
        "-days",
        "2",
        "-extfile",
        &ext,
    ]
    .map(String::from);
    openssl(dir, &args);
}

impl TlsFiles {
    /// Make every file in `dir`.
    pub fn generate(dir: &Path) -> TlsFiles {
        std::fs::create_dir_all(dir).unwrap();
        ca(dir, "ca");
        ca(dir, "other-ca");
        leaf(dir, "server", "ca");
        leaf(dir, "client", "ca");
        leaf(dir, "stranger", "other-ca");
        let f = |name: &str| dir.join(name);
        TlsFiles {
            ca: f("ca.pem"),
            other_ca: f("other-ca.pem"),
            server_cert: f("server.pem"),
            server_key: f("server.key"),
            client_cert: f("client.pem"),
            client_key: f("client.key"),
            stranger_cert: f("stranger.pem"),
            stranger_key: f("stranger.key"),
        }
    }

    /// DCMTK's arguments for TLS with our client (or server) key and certificate, trusting
    /// the CA: `+tls KEY CERT +cf CA`.
    pub fn dcmtk_args(&self, key: &Path, cert: &Path) -> Vec<String> {
        [
            "+tls",
            &key.to_string_lossy(),
            &cert.to_string_lossy(),
            "+cf",
            &self.ca.to_string_lossy(),
        ]
        .iter()
        .map(|s| s.to_string())
        .collect()
    }
}
