//! TLS, as Redis's `tls.c`, on rustls (no OpenSSL).
//!
//! `TlsContext::build` reads the `tls-*` directives and makes the server
//! side (one rustls config per `tls-auth-clients` value, so that a change
//! of that directive applies to the next connection without a reload, as
//! in Redis, which reads it per connection) and the client side used for
//! outgoing connections (the link to our master with `tls-replication`,
//! MIGRATE with `tls-cluster`). A failure is the list of lines Redis would
//! log, and the context in use stays as it was (Redis's tlsConfigure is
//! atomic the same way).
//!
//! What maps and what does not (README, "TLS"): rustls speaks TLSv1.2 and
//! TLSv1.3 with AEAD suites only (ECDHE key exchange; AES-GCM and
//! ChaCha20-Poly1305). `tls-ciphersuites` names TLSv1.3 suites and
//! `tls-ciphers` is read as an OpenSSL cipher string whose rules are
//! applied to the TLSv1.2 suites rustls has; names of suites rustls lacks
//! (CBC, static RSA key exchange) select nothing. Encrypted keys
//! (`tls-key-file-pass`) are read in PKCS#8 form (`BEGIN ENCRYPTED
//! PRIVATE KEY`, what OpenSSL 3 writes); the legacy `Proc-Type:
//! 4,ENCRYPTED` PEM form is refused with an error that says so.
//! `tls-dh-params-file` is checked for readability but unused (no DHE).
//!
//! Like Redis, a client (a replica connecting to its master) verifies the
//! server's certificate chain against the CA but not its host name.

use std::collections::{HashMap, VecDeque};
use std::io::{Read, Write};
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::client::WebPkiServerVerifier;
use rustls::crypto::{ring as provider, CryptoProvider};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer, ServerName, UnixTime};
use rustls::server::{StoresServerSessions, WebPkiClientVerifier};
use rustls::sign::CertifiedKey;
use rustls::{
    CipherSuite, ClientConfig, DigitallySignedStruct, RootCertStore, ServerConfig, SignatureScheme,
    SupportedCipherSuite, SupportedProtocolVersion,
};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;

use crate::config::{Config, P};

/// `tls-auth-clients`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AuthClients {
    /// No client certificate asked for.
    No,
    /// A certificate is required and verified.
    Yes,
    /// A certificate is verified when the client sends one.
    Optional,
}

impl AuthClients {
    /// From the directive's value.
    pub fn from_config(cfg: &Config) -> AuthClients {
        match cfg.str(P::tls_auth_clients) {
            "no" => AuthClients::No,
            "optional" => AuthClients::Optional,
            _ => AuthClients::Yes,
        }
    }
}

/// The configured TLS contexts (Redis's `redis_tls_ctx` and
/// `redis_tls_client_ctx`).
pub struct TlsContext {
    /// Server side without client certificates (None when the settings
    /// leave no cipher suite rustls has: every handshake fails then).
    no_auth: Option<Arc<ServerConfig>>,
    /// Server side requiring a client certificate (None without a CA).
    auth: Option<Arc<ServerConfig>>,
    /// Server side verifying a certificate when one is sent.
    optional: Option<Arc<ServerConfig>>,
    /// Outgoing connections (None without a CA to verify servers with).
    client: Option<Arc<ClientConfig>>,
}

impl std::fmt::Debug for TlsContext {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TlsContext")
    }
}

/// Whether the configuration asks for TLS at all (Redis configures it when
/// any of these is set).
pub fn wanted(cfg: &Config) -> bool {
    cfg.int(P::tls_port) != 0 || cfg.bool(P::tls_replication) || cfg.bool(P::tls_cluster)
}

fn opt(cfg: &Config, p: P) -> Option<&str> {
    Some(cfg.str(p)).filter(|s| !s.is_empty())
}

impl TlsContext {
    /// Build the contexts from the `tls-*` directives; on failure, the
    /// lines Redis logs (at warning level).
    pub fn build(cfg: &Config) -> Result<TlsContext, String> {
        let Some(cert_file) = opt(cfg, P::tls_cert_file) else {
            return Err("No tls-cert-file configured!".into());
        };
        let Some(key_file) = opt(cfg, P::tls_key_file) else {
            return Err("No tls-key-file configured!".into());
        };
        let ca_file = opt(cfg, P::tls_ca_cert_file);
        let ca_dir = opt(cfg, P::tls_ca_cert_dir);
        let auth = AuthClients::from_config(cfg);
        if (auth != AuthClients::No || cfg.bool(P::tls_cluster) || cfg.bool(P::tls_replication))
            && ca_file.is_none()
            && ca_dir.is_none()
        {
            return Err("Either tls-ca-cert-file or tls-ca-cert-dir must be specified when tls-cluster, tls-replication or tls-auth-clients are enabled!".into());
        }
        let versions = parse_protocols(opt(cfg, P::tls_protocols))?;
        let certs = load_certs(cert_file)
            .map_err(|e| format!("Failed to load certificate: {cert_file}: {e}"))?;
        let key = load_key(key_file, opt(cfg, P::tls_key_file_pass))
            .map_err(|e| format!("Failed to load private key: {key_file}: {e}"))?;
        let roots = load_roots(ca_file, ca_dir)
            .map_err(|e| format!("Failed to configure CA certificate(s) file/directory: {e}"))?;
        let suites = cipher_suites(opt(cfg, P::tls_ciphers), opt(cfg, P::tls_ciphersuites))?;
        if let Some(dh) = opt(cfg, P::tls_dh_params_file) {
            if let Err(e) = std::fs::read(dh) {
                return Err(format!("Failed to load {dh}: {}", os_error(&e)));
            }
        }
        if !versions
            .iter()
            .any(|v| suites.iter().any(|s| s.version() == *v))
        {
            // OpenSSL accepts such settings too, and then fails every
            // handshake ("no shared cipher").
            tracing::warn!("tls-protocols, tls-ciphers and tls-ciphersuites leave no cipher suite that relica supports (rustls): TLS handshakes will fail");
            return Ok(TlsContext {
                no_auth: None,
                auth: None,
                optional: None,
                client: None,
            });
        }
        let provider = Arc::new(CryptoProvider {
            cipher_suites: suites,
            ..base_provider()
        });
        let sessions: Arc<dyn StoresServerSessions> = if cfg.bool(P::tls_session_caching) {
            Arc::new(SessionCache::new(
                cfg.int(P::tls_session_cache_size).max(0) as usize,
                Duration::from_secs(cfg.int(P::tls_session_cache_timeout).max(0) as u64),
            ))
        } else {
            Arc::new(rustls::server::NoServerSessionStorage {})
        };
        let own = certified_key(certs, key, &provider, key_file)?;
        let prefer_server = cfg.bool(P::tls_prefer_server_ciphers);
        let caching = cfg.bool(P::tls_session_caching);
        let server = |verifier: Option<Arc<dyn rustls::server::danger::ClientCertVerifier>>| -> Result<Arc<ServerConfig>, String> {
            let b = ServerConfig::builder_with_provider(provider.clone())
                .with_protocol_versions(&versions)
                .map_err(|e| format!("Failed to configure ciphers: {e}"))?;
            let b = match verifier {
                Some(v) => b.with_client_cert_verifier(v),
                None => b.with_no_client_auth(),
            };
            let mut c = b.with_cert_resolver(Arc::new(OneCert(own.clone())));
            c.ignore_client_order = prefer_server;
            c.session_storage = sessions.clone();
            if !caching {
                c.send_tls13_tickets = 0;
            }
            Ok(Arc::new(c))
        };
        let no_auth = Some(server(None)?);
        let (auth_cfg, optional_cfg) = if roots.is_empty() {
            (None, None)
        } else {
            let roots = Arc::new(roots.clone());
            let required =
                WebPkiClientVerifier::builder_with_provider(roots.clone(), provider.clone())
                    .build()
                    .map_err(|e| {
                        format!("Failed to configure CA certificate(s) file/directory: {e}")
                    })?;
            let optional =
                WebPkiClientVerifier::builder_with_provider(roots.clone(), provider.clone())
                    .allow_unauthenticated()
                    .build()
                    .map_err(|e| {
                        format!("Failed to configure CA certificate(s) file/directory: {e}")
                    })?;
            let algs = provider.signature_verification_algorithms;
            let wrap = |inner| -> Arc<dyn rustls::server::danger::ClientCertVerifier> {
                Arc::new(ClientVerifier {
                    inner,
                    roots: roots.clone(),
                    algs,
                })
            };
            (
                Some(server(Some(wrap(required)))?),
                Some(server(Some(wrap(optional)))?),
            )
        };
        // Outgoing connections present tls-client-cert-file when it is set
        // (with its key), tls-cert-file otherwise, as Redis.
        let client_key = match (
            opt(cfg, P::tls_client_cert_file),
            opt(cfg, P::tls_client_key_file),
        ) {
            (Some(cf), Some(kf)) => certified_key(
                load_certs(cf).map_err(|e| format!("Failed to load certificate: {cf}: {e}"))?,
                load_key(kf, opt(cfg, P::tls_client_key_file_pass))
                    .map_err(|e| format!("Failed to load private key: {kf}: {e}"))?,
                &provider,
                kf,
            )?,
            _ => own.clone(),
        };
        let client = if roots.is_empty() {
            None
        } else {
            let roots = Arc::new(roots);
            let verifier =
                WebPkiServerVerifier::builder_with_provider(roots.clone(), provider.clone())
                    .build()
                    .map_err(|e| {
                        format!("Failed to configure CA certificate(s) file/directory: {e}")
                    })?;
            let c = ClientConfig::builder_with_provider(provider.clone())
                .with_protocol_versions(&versions)
                .map_err(|e| format!("Failed to configure ciphers: {e}"))?
                .dangerous()
                .with_custom_certificate_verifier(Arc::new(NoHostName {
                    inner: verifier,
                    roots,
                    algs: provider.signature_verification_algorithms,
                }))
                .with_client_cert_resolver(Arc::new(OneCert(client_key)));
            Some(Arc::new(c))
        };
        Ok(TlsContext {
            no_auth,
            auth: auth_cfg,
            optional: optional_cfg,
            client,
        })
    }

    /// The acceptor for a new connection under `tls-auth-clients` (None:
    /// certificates are required but there is no CA to verify them with).
    pub fn acceptor(&self, auth: AuthClients) -> Option<tokio_rustls::TlsAcceptor> {
        let c = match auth {
            AuthClients::No => self.no_auth.as_ref(),
            AuthClients::Yes => self.auth.as_ref(),
            AuthClients::Optional => self.optional.as_ref(),
        };
        c.map(|c| tokio_rustls::TlsAcceptor::from(c.clone()))
    }

    /// The client side, for outgoing connections.
    pub fn client_config(&self) -> Option<Arc<ClientConfig>> {
        self.client.clone()
    }
}

/// rustls's *ring* provider. rustls marks it deprecated because *ring*
/// has no post-quantum key exchange; the alternative (aws-lc-rs) needs
/// cmake and a long C build, and the clients Redis users run (redis-cli,
/// OpenSSL-based libraries) negotiate X25519 or P-256 anyway.
#[allow(deprecated)]
fn base_provider() -> CryptoProvider {
    provider::default_provider()
}

/// A certificate chain with its key, checked to match as OpenSSL checks
/// (`key values mismatch`). Certificates webpki cannot parse (X.509 v1,
/// which `openssl x509 -req` makes without extensions) are used without
/// that check, as OpenSSL uses them.
fn certified_key(
    certs: Vec<CertificateDer<'static>>,
    key: PrivateKeyDer<'static>,
    provider: &CryptoProvider,
    key_file: &str,
) -> Result<Arc<CertifiedKey>, String> {
    let signing = provider
        .key_provider
        .load_private_key(key)
        .map_err(|e| format!("Failed to load private key: {key_file}: {e}"))?;
    let ck = CertifiedKey::new(certs, signing);
    if let Err(rustls::Error::InconsistentKeys(rustls::InconsistentKeys::KeyMismatch)) =
        ck.keys_match()
    {
        return Err(format!(
            "Failed to load private key: {key_file}: key values mismatch"
        ));
    }
    Ok(Arc::new(ck))
}

/// Our one certificate, whatever the peer asks.
#[derive(Debug)]
struct OneCert(Arc<CertifiedKey>);

impl rustls::server::ResolvesServerCert for OneCert {
    fn resolve(&self, _hello: rustls::server::ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        Some(self.0.clone())
    }
}

impl rustls::client::ResolvesClientCert for OneCert {
    fn resolve(
        &self,
        _root_hint_subjects: &[&[u8]],
        _sigschemes: &[SignatureScheme],
    ) -> Option<Arc<CertifiedKey>> {
        Some(self.0.clone())
    }

    fn has_certs(&self) -> bool {
        true
    }
}

/// The text of an OS error without Rust's "(os error N)" suffix, as
/// strerror() words it.
fn os_error(e: &std::io::Error) -> String {
    let s = e.to_string();
    match s.find(" (os error") {
        Some(i) => s[..i].to_string(),
        None => s,
    }
}

/// `tls-protocols`: Redis's words; empty means TLSv1.2 and TLSv1.3.
fn parse_protocols(s: Option<&str>) -> Result<Vec<&'static SupportedProtocolVersion>, String> {
    let Some(s) = s else {
        return Ok(vec![&rustls::version::TLS13, &rustls::version::TLS12]);
    };
    let mut v12 = false;
    let mut v13 = false;
    let mut old = false;
    let words: Vec<&str> = s.split(' ').filter(|w| !w.is_empty()).collect();
    if words.is_empty() {
        return Err("Invalid tls-protocols configuration string".into());
    }
    for w in words {
        match w.to_ascii_lowercase().as_str() {
            "tlsv1" | "tlsv1.1" => old = true,
            "tlsv1.2" => v12 = true,
            "tlsv1.3" => v13 = true,
            _ => {
                return Err("Invalid tls-protocols specified. Use a combination of 'TLSv1', 'TLSv1.1', 'TLSv1.2' and 'TLSv1.3'.".into())
            }
        }
    }
    let mut out = Vec::new();
    if v13 {
        out.push(&rustls::version::TLS13);
    }
    if v12 {
        out.push(&rustls::version::TLS12);
    }
    if out.is_empty() && old {
        return Err(
            "tls-protocols: TLSv1 and TLSv1.1 are not supported (rustls speaks TLSv1.2 and TLSv1.3)"
                .into(),
        );
    }
    Ok(out)
}

/// Read a file for a certificate or key, naming the OS error as Redis's
/// OpenSSL error string would (its text differs).
fn read_file(path: &str) -> Result<Vec<u8>, String> {
    std::fs::read(path).map_err(|e| os_error(&e))
}

/// A certificate chain in PEM.
fn load_certs(path: &str) -> Result<Vec<CertificateDer<'static>>, String> {
    let bytes = read_file(path)?;
    let certs: Vec<_> = CertificateDer::pem_slice_iter(&bytes)
        .collect::<Result<_, _>>()
        .map_err(|e| format!("bad PEM certificate: {e}"))?;
    if certs.is_empty() {
        return Err("no certificate in the file (PEM expected)".into());
    }
    Ok(certs)
}

/// A private key in PEM: PKCS#8, PKCS#1 or SEC1, or an encrypted PKCS#8
/// key opened with `pass`.
fn load_key(path: &str, pass: Option<&str>) -> Result<PrivateKeyDer<'static>, String> {
    let bytes = read_file(path)?;
    const BEGIN: &[u8] = b"-----BEGIN ENCRYPTED PRIVATE KEY-----";
    const END: &[u8] = b"-----END ENCRYPTED PRIVATE KEY-----";
    if let Some(start) = find(&bytes, BEGIN) {
        let Some(pass) = pass else {
            return Err("the key is encrypted and no password is set (tls-key-file-pass)".into());
        };
        let stop = find(&bytes[start..], END)
            .map(|e| start + e + END.len())
            .ok_or("unterminated ENCRYPTED PRIVATE KEY block")?;
        let (_, der) = pkcs8::der::pem::decode_vec(&bytes[start..stop])
            .map_err(|e| format!("bad PEM: {e}"))?;
        let info = pkcs8::EncryptedPrivateKeyInfo::try_from(der.as_slice())
            .map_err(|e| format!("bad encrypted key: {e}"))?;
        let doc = info
            .decrypt(pass.as_bytes())
            .map_err(|_| "bad decrypt (wrong password or unsupported encryption)".to_string())?;
        return Ok(PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(
            doc.as_bytes().to_vec(),
        )));
    }
    if find(&bytes, b"Proc-Type: 4,ENCRYPTED").is_some() {
        return Err("legacy PEM encryption (Proc-Type: 4,ENCRYPTED) is not supported; convert the key to encrypted PKCS#8 (openssl pkcs8 -topk8)".into());
    }
    PrivateKeyDer::from_pem_slice(&bytes).map_err(|e| format!("no usable private key: {e}"))
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

/// The CA certificates of `tls-ca-cert-file` and every certificate file of
/// `tls-ca-cert-dir`.
fn load_roots(file: Option<&str>, dir: Option<&str>) -> Result<RootCertStore, String> {
    let mut roots = RootCertStore::empty();
    if let Some(f) = file {
        for c in load_certs(f).map_err(|e| format!("{f}: {e}"))? {
            roots.add(c).map_err(|e| format!("{f}: {e}"))?;
        }
    }
    if let Some(d) = dir {
        let entries = std::fs::read_dir(d).map_err(|e| format!("{d}: {}", os_error(&e)))?;
        for e in entries.flatten() {
            let p = e.path();
            if !p.is_file() {
                continue;
            }
            // As OpenSSL's hashed directory lookup, files that are not
            // certificates are passed over.
            if let Ok(certs) = load_certs(&p.to_string_lossy()) {
                for c in certs {
                    let _ = roots.add(c);
                }
            }
        }
    }
    Ok(roots)
}

/// The TLSv1.2 suites rustls has, with their OpenSSL names and the
/// attributes OpenSSL's cipher-string aliases select on.
const TLS12: &[(&str, CipherSuite, &[&str])] = &[
    (
        "ECDHE-ECDSA-AES256-GCM-SHA384",
        CipherSuite::TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,
        &["aECDSA", "ECDSA", "AES256", "AESGCM", "AES", "SHA384"],
    ),
    (
        "ECDHE-ECDSA-AES128-GCM-SHA256",
        CipherSuite::TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
        &["aECDSA", "ECDSA", "AES128", "AESGCM", "AES", "SHA256"],
    ),
    (
        "ECDHE-ECDSA-CHACHA20-POLY1305",
        CipherSuite::TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256,
        &["aECDSA", "ECDSA", "CHACHA20", "SHA256"],
    ),
    (
        "ECDHE-RSA-AES256-GCM-SHA384",
        CipherSuite::TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,
        &["aRSA", "RSA", "AES256", "AESGCM", "AES", "SHA384"],
    ),
    (
        "ECDHE-RSA-AES128-GCM-SHA256",
        CipherSuite::TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
        &["aRSA", "RSA", "AES128", "AESGCM", "AES", "SHA256"],
    ),
    (
        "ECDHE-RSA-CHACHA20-POLY1305",
        CipherSuite::TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256,
        &["aRSA", "RSA", "CHACHA20", "SHA256"],
    ),
];

/// Aliases that select every TLSv1.2 suite rustls has.
const ALL_ALIASES: &[&str] = &[
    "ALL",
    "DEFAULT",
    "HIGH",
    "ECDHE",
    "EECDH",
    "kECDHE",
    "kEECDH",
    "ECDH",
    "AEAD",
    "TLSv1.2",
    "COMPLEMENTOFALL",
];

/// The TLSv1.3 suites, by their IANA names (what tls-ciphersuites uses).
const TLS13: &[(&str, CipherSuite)] = &[
    (
        "TLS_AES_256_GCM_SHA384",
        CipherSuite::TLS13_AES_256_GCM_SHA384,
    ),
    (
        "TLS_AES_128_GCM_SHA256",
        CipherSuite::TLS13_AES_128_GCM_SHA256,
    ),
    (
        "TLS_CHACHA20_POLY1305_SHA256",
        CipherSuite::TLS13_CHACHA20_POLY1305_SHA256,
    ),
];

/// TLSv1.3 suites OpenSSL knows that rustls has not.
const TLS13_OTHER: &[&str] = &["TLS_AES_128_CCM_SHA256", "TLS_AES_128_CCM_8_SHA256"];

/// OpenSSL's names and aliases for TLSv1.2 ciphers rustls has not (CBC
/// modes, static RSA or DHE key exchange, CCM, Camellia, ARIA, PSK…).
const TLS12_OTHER: &[&str] = &[
    "AES128-SHA256",
    "AES256-SHA256",
    "AES128-SHA",
    "AES256-SHA",
    "AES128-GCM-SHA256",
    "AES256-GCM-SHA384",
    "AES128-CCM",
    "AES256-CCM",
    "AES128-CCM8",
    "AES256-CCM8",
    "ECDHE-RSA-AES128-SHA256",
    "ECDHE-RSA-AES256-SHA384",
    "ECDHE-RSA-AES128-SHA",
    "ECDHE-RSA-AES256-SHA",
    "ECDHE-ECDSA-AES128-SHA256",
    "ECDHE-ECDSA-AES256-SHA384",
    "ECDHE-ECDSA-AES128-SHA",
    "ECDHE-ECDSA-AES256-SHA",
    "ECDHE-ECDSA-AES128-CCM",
    "ECDHE-ECDSA-AES256-CCM",
    "DHE-RSA-AES128-GCM-SHA256",
    "DHE-RSA-AES256-GCM-SHA384",
    "DHE-RSA-CHACHA20-POLY1305",
    "DHE-RSA-AES128-SHA256",
    "DHE-RSA-AES256-SHA256",
    "DHE-RSA-AES128-SHA",
    "DHE-RSA-AES256-SHA",
    "DES-CBC3-SHA",
    "CAMELLIA128-SHA",
    "CAMELLIA256-SHA",
    "kRSA",
    "DHE",
    "EDH",
    "kDHE",
    "kEDH",
    "DH",
    "AESCCM",
    "AESCCM8",
    "CAMELLIA",
    "ARIA",
    "PSK",
    "SHA1",
    "SHA",
    "MEDIUM",
    "LOW",
    "3DES",
    "SEED",
    "IDEA",
    "RC4",
    "MD5",
    "aNULL",
    "eNULL",
    "NULL",
    "EXPORT",
    "SSLv3",
    "TLSv1",
    "TLSv1.0",
    "COMPLEMENTOFDEFAULT",
    "SUITEB128",
    "SUITEB192",
];

/// Whether an OpenSSL cipher string names any cipher OpenSSL knows.
fn names_openssl_cipher(s: &str) -> bool {
    s.split([':', ',', ' ']).any(|item| {
        let name = item.trim_start_matches(['!', '-', '+']);
        name.split('+').any(|part| {
            TLS12_OTHER.contains(&part)
                || ALL_ALIASES.contains(&part)
                || TLS12
                    .iter()
                    .any(|(n, _, attrs)| *n == part || attrs.contains(&part))
        })
    })
}

/// The suites in preference order: TLSv1.3 from `tls-ciphersuites`, then
/// TLSv1.2 from `tls-ciphers`.
fn cipher_suites(
    ciphers: Option<&str>,
    ciphersuites: Option<&str>,
) -> Result<Vec<SupportedCipherSuite>, String> {
    let all = base_provider().cipher_suites;
    let by_id = |id: CipherSuite| all.iter().find(|s| s.suite() == id).copied();
    let mut out = Vec::new();
    match ciphersuites {
        None => out.extend(TLS13.iter().filter_map(|(_, id)| by_id(*id))),
        Some(list) => {
            let mut known = false;
            for name in list.split(':').filter(|n| !n.is_empty()) {
                if let Some((_, id)) = TLS13.iter().find(|(n, _)| *n == name) {
                    known = true;
                    if let Some(s) = by_id(*id).filter(|s| !out.contains(s)) {
                        out.push(s);
                    }
                } else if TLS13_OTHER.contains(&name) {
                    known = true;
                } else {
                    return Err(format!("Failed to configure ciphersuites: {list}"));
                }
            }
            if !known {
                return Err(format!("Failed to configure ciphersuites: {list}"));
            }
        }
    }
    let default12: Vec<CipherSuite> = TLS12.iter().map(|(_, id, _)| *id).collect();
    let v12 = match ciphers {
        None => default12.clone(),
        Some(s) => openssl_cipher_list(s),
    };
    // As OpenSSL's SSL_CTX_set_cipher_list, a string that names no cipher
    // at all is refused; one whose ciphers rustls lacks is accepted.
    let mut v12 = v12;
    if let Some(c) = ciphers {
        if v12.is_empty() && !names_openssl_cipher(c) {
            return Err(format!("Failed to configure ciphers: {c}"));
        }
        // Only ciphers rustls lacks: nothing maps, so nothing restricts
        // the suites rustls has (all of them AEAD with forward secrecy).
        if v12.is_empty() {
            tracing::warn!("tls-ciphers '{c}' names no TLSv1.2 cipher suite that relica supports (rustls: ECDHE with AES-GCM or ChaCha20-Poly1305); TLSv1.2 uses those");
            v12 = default12;
        }
    }
    out.extend(v12.into_iter().filter_map(by_id));
    Ok(out)
}

/// The TLSv1.2 suites an OpenSSL cipher string selects among those rustls
/// has, in order: items separated by `:`, `,` or spaces; `!` removes for
/// good, `-` removes, `+` moves to the end, a bare item appends; `A+B`
/// selects what both select; `@…` (strength sort, security level) is
/// accepted and changes nothing here.
fn openssl_cipher_list(s: &str) -> Vec<CipherSuite> {
    let mut list: Vec<CipherSuite> = Vec::new();
    let mut banned: Vec<CipherSuite> = Vec::new();
    for item in s.split([':', ',', ' ']).filter(|w| !w.is_empty()) {
        let (op, name) = match item.as_bytes()[0] {
            b'!' | b'-' | b'+' => (item.as_bytes()[0], &item[1..]),
            _ => (0, item),
        };
        if name.starts_with('@') {
            continue;
        }
        let selected: Vec<CipherSuite> = TLS12
            .iter()
            .filter(|(n, _, attrs)| {
                name.split('+')
                    .all(|part| part == *n || ALL_ALIASES.contains(&part) || attrs.contains(&part))
            })
            .map(|(_, id, _)| *id)
            .collect();
        match op {
            b'!' => {
                list.retain(|c| !selected.contains(c));
                banned.extend(selected);
            }
            b'-' => list.retain(|c| !selected.contains(c)),
            b'+' => {
                let moved: Vec<CipherSuite> = list
                    .iter()
                    .filter(|c| selected.contains(c))
                    .copied()
                    .collect();
                list.retain(|c| !selected.contains(c));
                list.extend(moved);
            }
            _ => {
                for c in selected {
                    if !list.contains(&c) && !banned.contains(&c) {
                        list.push(c);
                    }
                }
            }
        }
    }
    list
}

/// An X.509 v1 certificate (no version field, no extensions), the kind
/// `openssl x509 -req` makes without `-extfile`. webpki refuses those;
/// OpenSSL, and so Redis, accepts them. relica verifies such a peer
/// certificate itself when a trusted CA signed it directly: the issuer is
/// a configured CA, the signature is the CA's (with the provider's
/// algorithms), and it is within its validity.
struct V1Cert<'a> {
    tbs: &'a [u8],
    sig_alg: &'a [u8],
    sig: &'a [u8],
    issuer: &'a [u8],
    not_before: u64,
    not_after: u64,
    spki_alg: &'a [u8],
    spki_key: &'a [u8],
}

fn der_time(t: pkcs8::der::asn1::AnyRef<'_>) -> Option<u64> {
    use pkcs8::der::asn1::{GeneralizedTime, UtcTime};
    use pkcs8::der::{Tag, Tagged};
    let d = match t.tag() {
        Tag::UtcTime => UtcTime::try_from(t).ok()?.to_unix_duration(),
        Tag::GeneralizedTime => GeneralizedTime::try_from(t).ok()?.to_unix_duration(),
        _ => return None,
    };
    Some(d.as_secs())
}

/// The `(algorithm, key)` of a SubjectPublicKeyInfo's content.
fn spki_parts(content: &[u8]) -> Option<(&[u8], &[u8])> {
    use pkcs8::der::asn1::{AnyRef, BitStringRef};
    use pkcs8::der::{Reader, SliceReader};
    let mut r = SliceReader::new(content).ok()?;
    let alg: AnyRef<'_> = r.decode().ok()?;
    let key: BitStringRef<'_> = r.decode().ok()?;
    Some((alg.value(), key.raw_bytes()))
}

fn parse_v1(der: &[u8]) -> Option<V1Cert<'_>> {
    use pkcs8::der::asn1::{AnyRef, BitStringRef};
    use pkcs8::der::{Decode, Reader, SliceReader, Tag, Tagged};
    let cert = AnyRef::from_der(der).ok()?;
    let mut r = SliceReader::new(cert.value()).ok()?;
    let tbs = r.tlv_bytes().ok()?;
    let sig_alg: AnyRef<'_> = r.decode().ok()?;
    let sig: BitStringRef<'_> = r.decode().ok()?;
    let tbs_any = AnyRef::from_der(tbs).ok()?;
    let mut t = SliceReader::new(tbs_any.value()).ok()?;
    let serial: AnyRef<'_> = t.decode().ok()?;
    if serial.tag() != Tag::Integer {
        // A version field: v2 or v3, webpki's to judge.
        return None;
    }
    let _sig_alg: AnyRef<'_> = t.decode().ok()?;
    let issuer: AnyRef<'_> = t.decode().ok()?;
    let validity: AnyRef<'_> = t.decode().ok()?;
    let _subject: AnyRef<'_> = t.decode().ok()?;
    let spki: AnyRef<'_> = t.decode().ok()?;
    if !t.is_finished() {
        return None;
    }
    let mut v = SliceReader::new(validity.value()).ok()?;
    let not_before = der_time(v.decode().ok()?)?;
    let not_after = der_time(v.decode().ok()?)?;
    let (spki_alg, spki_key) = spki_parts(spki.value())?;
    Some(V1Cert {
        tbs,
        sig_alg: sig_alg.value(),
        sig: sig.raw_bytes(),
        issuer: issuer.value(),
        not_before,
        not_after,
        spki_alg,
        spki_key,
    })
}

/// Verify a v1 certificate against the CAs.
fn verify_v1(
    c: &V1Cert<'_>,
    roots: &RootCertStore,
    algs: &rustls::crypto::WebPkiSupportedAlgorithms,
    now: UnixTime,
) -> Result<(), rustls::Error> {
    use rustls::{CertificateError, Error};
    let now = now.as_secs();
    if now < c.not_before {
        return Err(Error::InvalidCertificate(CertificateError::NotValidYet));
    }
    if now > c.not_after {
        return Err(Error::InvalidCertificate(CertificateError::Expired));
    }
    for anchor in roots
        .roots
        .iter()
        .filter(|a| a.subject.as_ref() == c.issuer)
    {
        let Some((alg, key)) = spki_parts(anchor.subject_public_key_info.as_ref()) else {
            continue;
        };
        let signed = algs.all.iter().any(|a| {
            a.signature_alg_id().as_ref() == c.sig_alg
                && a.public_key_alg_id().as_ref() == alg
                && a.verify_signature(key, c.tbs, c.sig).is_ok()
        });
        if signed {
            return Ok(());
        }
    }
    Err(Error::InvalidCertificate(CertificateError::UnknownIssuer))
}

/// A handshake signature made with a v1 certificate's key.
fn verify_v1_signature(
    c: &V1Cert<'_>,
    message: &[u8],
    dss: &DigitallySignedStruct,
    algs: &rustls::crypto::WebPkiSupportedAlgorithms,
    tls13: bool,
) -> Result<HandshakeSignatureValid, rustls::Error> {
    use rustls::{CertificateError, Error, PeerMisbehaved};
    // TLSv1.3 signs with PSS, ECDSA or EdDSA only (RFC 8446, 4.2.3).
    let in_tls13 = matches!(
        dss.scheme,
        SignatureScheme::ECDSA_NISTP256_SHA256
            | SignatureScheme::ECDSA_NISTP384_SHA384
            | SignatureScheme::ECDSA_NISTP521_SHA512
            | SignatureScheme::RSA_PSS_SHA256
            | SignatureScheme::RSA_PSS_SHA384
            | SignatureScheme::RSA_PSS_SHA512
            | SignatureScheme::ED25519
            | SignatureScheme::ED448
    );
    if tls13 && !in_tls13 {
        return Err(PeerMisbehaved::SignedHandshakeWithUnadvertisedSigScheme.into());
    }
    let Some((_, candidates)) = algs.mapping.iter().find(|(s, _)| *s == dss.scheme) else {
        return Err(PeerMisbehaved::SignedHandshakeWithUnadvertisedSigScheme.into());
    };
    let ok = candidates.iter().any(|a| {
        a.public_key_alg_id().as_ref() == c.spki_alg
            && a.verify_signature(c.spki_key, message, dss.signature())
                .is_ok()
    });
    if ok {
        Ok(HandshakeSignatureValid::assertion())
    } else {
        Err(Error::InvalidCertificate(CertificateError::BadSignature))
    }
}

/// Client certificates verified by webpki, and v1 ones as OpenSSL does.
#[derive(Debug)]
struct ClientVerifier {
    inner: Arc<dyn rustls::server::danger::ClientCertVerifier>,
    roots: Arc<RootCertStore>,
    algs: rustls::crypto::WebPkiSupportedAlgorithms,
}

impl rustls::server::danger::ClientCertVerifier for ClientVerifier {
    fn offer_client_auth(&self) -> bool {
        self.inner.offer_client_auth()
    }

    fn client_auth_mandatory(&self) -> bool {
        self.inner.client_auth_mandatory()
    }

    fn root_hint_subjects(&self) -> &[rustls::DistinguishedName] {
        self.inner.root_hint_subjects()
    }

    fn verify_client_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        now: UnixTime,
    ) -> Result<rustls::server::danger::ClientCertVerified, rustls::Error> {
        match parse_v1(end_entity) {
            Some(c) => verify_v1(&c, &self.roots, &self.algs, now)
                .map(|_| rustls::server::danger::ClientCertVerified::assertion()),
            None => self
                .inner
                .verify_client_cert(end_entity, intermediates, now),
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        match parse_v1(cert) {
            Some(c) => verify_v1_signature(&c, message, dss, &self.algs, false),
            None => self.inner.verify_tls12_signature(message, cert, dss),
        }
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        match parse_v1(cert) {
            Some(c) => verify_v1_signature(&c, message, dss, &self.algs, true),
            None => self.inner.verify_tls13_signature(message, cert, dss),
        }
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.inner.supported_verify_schemes()
    }
}

/// Verifies a server's chain against the CA, not its name (Redis does not
/// check host names either); v1 certificates as OpenSSL does.
#[derive(Debug)]
struct NoHostName {
    inner: Arc<WebPkiServerVerifier>,
    roots: Arc<RootCertStore>,
    algs: rustls::crypto::WebPkiSupportedAlgorithms,
}

impl ServerCertVerifier for NoHostName {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        use rustls::{CertificateError, Error};
        if let Some(c) = parse_v1(end_entity) {
            return verify_v1(&c, &self.roots, &self.algs, now)
                .map(|_| ServerCertVerified::assertion());
        }
        match self.inner.verify_server_cert(
            end_entity,
            intermediates,
            server_name,
            ocsp_response,
            now,
        ) {
            Err(Error::InvalidCertificate(
                CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. },
            )) => Ok(ServerCertVerified::assertion()),
            r => r,
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        match parse_v1(cert) {
            Some(c) => verify_v1_signature(&c, message, dss, &self.algs, false),
            None => self.inner.verify_tls12_signature(message, cert, dss),
        }
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        match parse_v1(cert) {
            Some(c) => verify_v1_signature(&c, message, dss, &self.algs, true),
            None => self.inner.verify_tls13_signature(message, cert, dss),
        }
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.inner.supported_verify_schemes()
    }
}

/// The server's session cache (`tls-session-caching`): at most `size`
/// sessions (0: no bound, as OpenSSL), each kept `timeout`.
#[derive(Debug)]
struct SessionCache {
    size: usize,
    timeout: Duration,
    inner: Mutex<SessionMap>,
}

#[derive(Debug, Default)]
struct SessionMap {
    map: HashMap<Vec<u8>, (Vec<u8>, Instant)>,
    order: VecDeque<Vec<u8>>,
}

impl SessionCache {
    fn new(size: usize, timeout: Duration) -> Self {
        SessionCache {
            size,
            timeout,
            inner: Mutex::new(SessionMap::default()),
        }
    }
}

impl StoresServerSessions for SessionCache {
    fn put(&self, key: Vec<u8>, value: Vec<u8>) -> bool {
        let mut m = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        let now = Instant::now();
        // Expired sessions and, past the size, the oldest go first.
        while let Some(k) = m.order.front().cloned() {
            let stale = m
                .map
                .get(&k)
                .is_none_or(|(_, at)| now.duration_since(*at) >= self.timeout);
            let full = self.size > 0 && m.map.len() >= self.size;
            if !stale && !full {
                break;
            }
            m.order.pop_front();
            m.map.remove(&k);
        }
        if m.map.insert(key.clone(), (value, now)).is_none() {
            m.order.push_back(key);
        }
        true
    }

    fn get(&self, key: &[u8]) -> Option<Vec<u8>> {
        let m = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        m.map
            .get(key)
            .filter(|(_, at)| at.elapsed() < self.timeout)
            .map(|(v, _)| v.clone())
    }

    fn take(&self, key: &[u8]) -> Option<Vec<u8>> {
        let mut m = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        let (v, at) = m.map.remove(key)?;
        m.order.retain(|k| k != key);
        (at.elapsed() < self.timeout).then_some(v)
    }

    fn can_cache(&self) -> bool {
        true
    }
}

/// The name a client connection presents (SNI, when it is a DNS name);
/// names are not verified.
fn server_name(host: &str) -> ServerName<'static> {
    ServerName::try_from(host.to_string())
        .unwrap_or_else(|_| ServerName::try_from("localhost").expect("a valid DNS name"))
}

/// An outgoing connection, plain or TLS: one type for the code that talks
/// to another server (the link to our master), whichever the transport.
pub enum Stream {
    /// Plain TCP.
    Tcp(TcpStream),
    /// TLS over TCP.
    Tls(Box<tokio_rustls::client::TlsStream<TcpStream>>),
}

impl Stream {
    /// The TCP socket under it.
    pub fn tcp(&self) -> &TcpStream {
        match self {
            Stream::Tcp(s) => s,
            Stream::Tls(s) => s.get_ref().0,
        }
    }

    /// Run the TLS handshake over `tcp` as a client of `host`.
    pub async fn connect_tls(
        config: Arc<ClientConfig>,
        host: &str,
        tcp: TcpStream,
    ) -> std::io::Result<Stream> {
        let s = tokio_rustls::TlsConnector::from(config)
            .connect(server_name(host), tcp)
            .await?;
        Ok(Stream::Tls(Box::new(s)))
    }
}

impl AsyncRead for Stream {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        match self.get_mut() {
            Stream::Tcp(s) => Pin::new(s).poll_read(cx, buf),
            Stream::Tls(s) => Pin::new(s.as_mut()).poll_read(cx, buf),
        }
    }
}

impl AsyncWrite for Stream {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        match self.get_mut() {
            Stream::Tcp(s) => Pin::new(s).poll_write(cx, buf),
            Stream::Tls(s) => Pin::new(s.as_mut()).poll_write(cx, buf),
        }
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        match self.get_mut() {
            Stream::Tcp(s) => Pin::new(s).poll_flush(cx),
            Stream::Tls(s) => Pin::new(s.as_mut()).poll_flush(cx),
        }
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        match self.get_mut() {
            Stream::Tcp(s) => Pin::new(s).poll_shutdown(cx),
            Stream::Tls(s) => Pin::new(s.as_mut()).poll_shutdown(cx),
        }
    }
}

/// A blocking outgoing connection, plain or TLS (MIGRATE's sockets, which
/// are synchronous as in Redis).
pub enum BlockingStream {
    /// Plain TCP.
    Tcp(std::net::TcpStream),
    /// TLS over TCP.
    Tls(Box<rustls::StreamOwned<rustls::ClientConnection, std::net::TcpStream>>),
}

impl BlockingStream {
    /// The TCP socket under it (for its timeouts).
    pub fn tcp(&self) -> &std::net::TcpStream {
        match self {
            BlockingStream::Tcp(s) => s,
            BlockingStream::Tls(s) => &s.sock,
        }
    }

    /// Run the TLS handshake over `tcp` as a client of `host`, within
    /// `timeout` per read or write.
    pub fn tls(
        config: Arc<ClientConfig>,
        host: &str,
        mut tcp: std::net::TcpStream,
        timeout: Duration,
    ) -> std::io::Result<BlockingStream> {
        let mut conn = rustls::ClientConnection::new(config, server_name(host))
            .map_err(std::io::Error::other)?;
        tcp.set_read_timeout(Some(timeout))?;
        tcp.set_write_timeout(Some(timeout))?;
        while conn.is_handshaking() {
            conn.complete_io(&mut tcp)?;
        }
        Ok(BlockingStream::Tls(Box::new(rustls::StreamOwned::new(
            conn, tcp,
        ))))
    }
}

impl Read for BlockingStream {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        match self {
            BlockingStream::Tcp(s) => s.read(buf),
            BlockingStream::Tls(s) => s.read(buf),
        }
    }
}

impl Write for BlockingStream {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        match self {
            BlockingStream::Tcp(s) => s.write(buf),
            BlockingStream::Tls(s) => s.write(buf),
        }
    }

    fn flush(&mut self) -> std::io::Result<()> {
        match self {
            BlockingStream::Tcp(s) => s.flush(),
            BlockingStream::Tls(s) => s.flush(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn protocols_parse_as_redis() {
        assert_eq!(parse_protocols(None).unwrap().len(), 2);
        assert_eq!(parse_protocols(Some("TLSv1.2")).unwrap().len(), 1);
        assert_eq!(parse_protocols(Some("tlsv1.2 TLSv1.3")).unwrap().len(), 2);
        assert!(parse_protocols(Some("TLSv1.2 SSLv3"))
            .unwrap_err()
            .starts_with("Invalid tls-protocols specified."));
        assert!(parse_protocols(Some("TLSv1 TLSv1.1")).is_err());
    }

    #[test]
    fn openssl_cipher_strings() {
        let all = openssl_cipher_list("DEFAULT");
        assert_eq!(all.len(), TLS12.len());
        assert_eq!(
            openssl_cipher_list("DEFAULT:-AES128-SHA256").len(),
            TLS12.len()
        );
        assert!(openssl_cipher_list("-ALL:AES128-SHA256").is_empty());
        assert_eq!(
            openssl_cipher_list("ECDHE-RSA-AES128-GCM-SHA256:ECDHE-RSA-AES256-GCM-SHA384"),
            vec![
                CipherSuite::TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
                CipherSuite::TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384
            ]
        );
        assert_eq!(openssl_cipher_list("ECDHE+AESGCM:!aECDSA").len(), 2);
        assert_eq!(openssl_cipher_list("HIGH:!CHACHA20:-AES256").len(), 2);
        let moved = openssl_cipher_list("ALL:+AES256");
        assert_eq!(moved.len(), TLS12.len());
        assert_eq!(
            moved.last(),
            Some(&CipherSuite::TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384)
        );
    }

    #[test]
    fn ciphersuites_must_name_tls13_suites() {
        assert!(cipher_suites(None, Some("TLS_AES_128_GCM_SHA256")).is_ok());
        assert!(cipher_suites(None, Some("AES128-SHA")).is_err());
        // Ciphers OpenSSL knows and rustls has not are accepted (they
        // select nothing); names of no cipher at all are refused.
        assert!(cipher_suites(Some("AES128-SHA256:AES256-SHA256"), None).is_ok());
        assert!(cipher_suites(Some("NOSUCHCIPHER"), None).is_err());
    }

    #[test]
    fn session_cache_bounds_and_expires() {
        let c = SessionCache::new(2, Duration::from_secs(60));
        c.put(b"a".to_vec(), b"1".to_vec());
        c.put(b"b".to_vec(), b"2".to_vec());
        c.put(b"c".to_vec(), b"3".to_vec());
        assert_eq!(c.get(b"a"), None);
        assert_eq!(c.get(b"c"), Some(b"3".to_vec()));
        assert_eq!(c.take(b"b"), Some(b"2".to_vec()));
        assert_eq!(c.get(b"b"), None);
        let z = SessionCache::new(0, Duration::ZERO);
        z.put(b"a".to_vec(), b"1".to_vec());
        assert_eq!(z.get(b"a"), None);
    }
}
