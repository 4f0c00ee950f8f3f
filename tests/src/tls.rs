//! Certificates for the TLS tests, made with the `openssl` command-line tool: a CA, a server
//! certificate for `localhost` and 127.0.0.1, a client certificate, and a second CA whose
//! certificates nobody trusts ([`TlsFiles`]); and self-signed certificates made the way sites
//! make them for DCMTK and Orthanc ([`SelfSigned`]).

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use crate::{PeerPath, Server, READY_TIMEOUT};

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

/// A self-signed certificate and its key made with the usual recipe, `openssl req -x509
/// -newkey rsa:2048 -nodes -keyout KEY -out CERT -subj /CN=NAME -addext
/// subjectAltName=...`: such a certificate carries `CA:TRUE`, and the peer that trusts it
/// trusts it as it is (DCMTK `+cf CERT`, dimse `--tls-ca CERT`).
#[derive(Debug, Clone)]
pub struct SelfSigned {
    /// The certificate (PEM).
    pub cert: PathBuf,
    /// Its private key (PEM, unencrypted).
    pub key: PathBuf,
}

impl SelfSigned {
    /// `name.pem` and `name.key` in `dir` for the subject `/CN=cn`, with `san` (e.g.
    /// `DNS:localhost,IP:127.0.0.1`) as subjectAltName if given.
    pub fn generate(dir: &Path, name: &str, cn: &str, san: Option<&str>) -> SelfSigned {
        std::fs::create_dir_all(dir).unwrap();
        let (cert, key) = (format!("{name}.pem"), format!("{name}.key"));
        let mut args: Vec<String> = [
            "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", &key, "-out", &cert,
            "-subj",
        ]
        .map(String::from)
        .to_vec();
        args.push(format!("/CN={cn}"));
        if let Some(san) = san {
            args.push("-addext".into());
            args.push(format!("subjectAltName={san}"));
        }
        openssl(dir, &args);
        SelfSigned {
            cert: dir.join(cert),
            key: dir.join(key),
        }
    }

    /// The issue's own example: `/CN=localhost`, `subjectAltName=DNS:localhost,IP:127.0.0.1`.
    pub fn localhost(dir: &Path, name: &str) -> SelfSigned {
        SelfSigned::generate(dir, name, "localhost", Some("DNS:localhost,IP:127.0.0.1"))
    }

    /// The SHA-256 fingerprint line `openssl x509 -noout -fingerprint -sha256` prints
    /// (`sha256 Fingerprint=AB:CD:...`), as a user would paste it into `--tls-pin`.
    pub fn fingerprint(&self) -> String {
        let out = Command::new("openssl")
            .args(["x509", "-noout", "-fingerprint", "-sha256", "-in"])
            .arg(&self.cert)
            .stdin(Stdio::null())
            .output()
            .expect("run openssl x509");
        assert!(out.status.success(), "openssl x509 -fingerprint failed");
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    }

    /// DCMTK's `+tls KEY CERT`.
    pub fn dcmtk_identity(&self) -> Vec<String> {
        vec![
            "+tls".into(),
            self.key.display().to_string(),
            self.cert.display().to_string(),
        ]
    }

    /// dimse's `--tls-cert CERT --tls-key KEY`.
    pub fn dimse_identity(&self) -> Vec<OsString> {
        vec![
            "--tls-cert".into(),
            self.cert.clone().into(),
            "--tls-key".into(),
            self.key.clone().into(),
        ]
    }
}

/// DCMTK `storescp` as [`crate::start_dcmtk_storescp`] starts it (`-v +xa +B +uf -pm`), with
/// the TLS options `tls` (e.g. `+tls KEY CERT -ic`, or `-rc +cf CERT`), waiting until it
/// accepts connections.
#[track_caller]
pub fn start_dcmtk_storescp_tls(
    storescp: &PeerPath,
    port: u16,
    aet: &str,
    out_dir: &Path,
    tls: &[String],
) -> Server {
    let mut cmd = storescp.command();
    cmd.args(["-v", "+xa", "+B", "+uf", "-pm", "-aet", aet, "-od"])
        .arg(out_dir)
        .args(tls)
        .arg(port.to_string())
        .current_dir(out_dir);
    let mut server = Server::spawn("DCMTK storescp +tls", &mut cmd);
    server.wait_for_port(port, READY_TIMEOUT);
    server
}
