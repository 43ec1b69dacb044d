//! TLS, as Redis's `tls.c`, on OpenSSL (the library Redis itself uses).
//!
//! `TlsContext::build` reads the `tls-*` directives and makes Redis's two
//! contexts with Redis's configuration steps: the server context
//! (`redis_tls_ctx`), which also serves outgoing connections unless a
//! client certificate is configured, and then the client context
//! (`redis_tls_client_ctx`, from `tls-client-cert-file`/`-key-file`). A
//! failure is the line Redis logs (with OpenSSL's error string, as
//! `ERR_error_string_n` words it), and the contexts in use stay as they
//! were (Redis's tlsConfigure is atomic the same way).
//!
//! Everything maps as in Redis, because it is the same library and the
//! same calls: `tls-protocols` (TLSv1 to TLSv1.3, by disabling the others),
//! `tls-ciphers` (an OpenSSL cipher list for TLSv1.2 and below),
//! `tls-ciphersuites` (TLSv1.3), `tls-prefer-server-ciphers`,
//! `tls-dh-params-file` (else OpenSSL's automatic DH parameters),
//! `tls-key-file-pass` (every PEM form OpenSSL reads, legacy `Proc-Type:
//! 4,ENCRYPTED` included), `tls-ca-cert-dir` (OpenSSL's hashed-name
//! lookup), `tls-session-caching` with its size and timeout (OpenSSL's
//! server session cache). `tls-auth-clients` is read per connection, as
//! Redis reads it (`SSL_set_verify` on each accepted connection).
//!
//! Like Redis, a client (a replica connecting to its master, MIGRATE with
//! `tls-cluster`) verifies the server's certificate chain against the CA
//! but not its host name, and sends no SNI.

use std::io::{Read, Write};
use std::path::Path;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use openssl::dh::Dh;
use openssl::error::ErrorStack;
use openssl::ssl::{
    self, SslContext, SslContextBuilder, SslFiletype, SslMethod, SslMode, SslOptions,
    SslSessionCacheMode, SslVerifyMode,
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

    fn verify_mode(self) -> SslVerifyMode {
        match self {
            AuthClients::No => SslVerifyMode::NONE,
            AuthClients::Optional => SslVerifyMode::PEER,
            AuthClients::Yes => SslVerifyMode::PEER | SslVerifyMode::FAIL_IF_NO_PEER_CERT,
        }
    }
}

/// The configured TLS contexts (Redis's `redis_tls_ctx` and
/// `redis_tls_client_ctx`).
pub struct TlsContext {
    /// The server side, and outgoing connections without a client
    /// certificate of their own.
    server: SslContext,
    /// Outgoing connections when `tls-client-cert-file` and
    /// `tls-client-key-file` are set.
    client: Option<SslContext>,
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

/// A string directive as Redis holds it: empty is unset (NULL), and a C
/// string ends at its first NUL.
fn opt(cfg: &Config, p: P) -> Option<&str> {
    let s = cfg.str(p);
    let s = s.split('\0').next().unwrap_or_default();
    Some(s).filter(|s| !s.is_empty())
}

/// Protocol bits, as Redis's `REDIS_TLS_PROTO_*`.
const TLSV1: u8 = 1;
const TLSV1_1: u8 = 2;
const TLSV1_2: u8 = 4;
const TLSV1_3: u8 = 8;

/// `tls-protocols` (Redis's parseProtocolsConfig): words split on single
/// spaces, case-insensitive; unset means TLSv1.2 and TLSv1.3.
fn parse_protocols(s: Option<&str>) -> Result<u8, String> {
    let Some(s) = s else {
        return Ok(TLSV1_2 | TLSV1_3);
    };
    let mut protocols = 0;
    for w in s.split(' ') {
        protocols |= match w.to_ascii_lowercase().as_str() {
            "tlsv1" => TLSV1,
            "tlsv1.1" => TLSV1_1,
            "tlsv1.2" => TLSV1_2,
            "tlsv1.3" => TLSV1_3,
            _ => return Err("Invalid tls-protocols specified. Use a combination of 'TLSv1', 'TLSv1.1', 'TLSv1.2' and 'TLSv1.3'.".into()),
        };
    }
    Ok(protocols)
}

/// The first error of OpenSSL's queue as `ERR_error_string_n` words it
/// (`error:0A00010B:SSL routines::wrong version number`), which is what
/// Redis logs.
fn err_string(e: &ErrorStack) -> String {
    match e.errors().first() {
        Some(e) => {
            let code = e.code();
            // System errors carry errno under ERR_SYSTEM_FLAG; their text
            // is strerror's.
            let system = code & 0x8000_0000 != 0;
            let (lib, reason) = if system {
                (2, code & 0x7fff_ffff)
            } else {
                ((code >> 23) & 0xff, code & 0x7f_ffff)
            };
            let lib = e
                .library()
                .map(str::to_string)
                .unwrap_or_else(|| format!("lib({lib})"));
            let text = if system {
                Some(os_error(&std::io::Error::from_raw_os_error(reason as i32)))
            } else {
                e.reason().map(str::to_string)
            };
            let reason = text.unwrap_or_else(|| format!("reason({})", reason & 0x3_ffff));
            format!("error:{code:08X}:{lib}::{reason}")
        }
        // An empty queue: ERR_get_error() returned 0.
        None => "error:00000000:lib(0)::reason(0)".into(),
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

/// What Redis's connGetLastError gives for a failed handshake or I/O
/// (handleSSLReturnCode): the OS's words for a system call error, OpenSSL's
/// error string otherwise.
pub fn ssl_error_text(e: &ssl::Error) -> String {
    if e.code() == ssl::ErrorCode::SYSCALL {
        return match e.io_error() {
            Some(io) if io.raw_os_error().is_some() => os_error(io),
            // errno 0: Redis keeps no error text.
            _ => match e.ssl_error() {
                Some(s) if !s.errors().is_empty() => err_string(s),
                _ => "(null)".into(),
            },
        };
    }
    match e.ssl_error() {
        Some(s) => err_string(s),
        None => match e.io_error() {
            Some(io) => os_error(io),
            None => "(null)".into(),
        },
    }
}

/// OpenSSL calls that the `openssl` crate does not bind. Redis makes
/// them: the session cache's timeout, and the key password callback that
/// answers with `tls-key-file-pass` (without it, OpenSSL would prompt on
/// the terminal for the password of an encrypted key).
#[allow(unsafe_code)]
mod ffi {
    use std::ffi::{c_char, c_int, c_long, c_void, CStr, CString};

    use openssl::ssl::SslContextBuilder;

    type PasswordCb = unsafe extern "C" fn(*mut c_char, c_int, c_int, *mut c_void) -> c_int;

    extern "C" {
        fn SSL_CTX_set_timeout(ctx: *mut openssl_sys::SSL_CTX, t: c_long) -> c_long;
        fn SSL_CTX_set_default_passwd_cb(ctx: *mut openssl_sys::SSL_CTX, cb: Option<PasswordCb>);
        fn SSL_CTX_set_default_passwd_cb_userdata(ctx: *mut openssl_sys::SSL_CTX, u: *mut c_void);
    }

    /// Redis's tlsPasswordCallback: the configured password, or a refusal
    /// (-1) when there is none or it does not fit.
    unsafe extern "C" fn password_cb(
        buf: *mut c_char,
        size: c_int,
        _rwflag: c_int,
        u: *mut c_void,
    ) -> c_int {
        if u.is_null() || buf.is_null() {
            return -1;
        }
        // SAFETY: `u` is the CString that `with_password` keeps alive
        // while OpenSSL may call us; `buf` has room for `size` bytes.
        let pass = unsafe { CStr::from_ptr(u as *const c_char) }.to_bytes();
        if size < 0 || pass.len() > size as usize {
            return -1;
        }
        unsafe { std::ptr::copy_nonoverlapping(pass.as_ptr(), buf as *mut u8, pass.len()) };
        pass.len() as c_int
    }

    /// `SSL_CTX_set_timeout`: how long a cached session lives.
    pub(super) fn set_timeout(b: &mut SslContextBuilder, secs: i64) {
        // SAFETY: a valid SSL_CTX; the call only stores the number.
        unsafe { SSL_CTX_set_timeout(b.as_ptr(), secs as c_long) };
    }

    /// OpenSSL's automatic DH parameters (`SSL_CTX_set_dh_auto`).
    pub(super) fn set_dh_auto(b: &mut SslContextBuilder) {
        // SAFETY: a valid SSL_CTX; a control call that stores a flag.
        unsafe { openssl_sys::SSL_CTX_set_dh_auto(b.as_ptr(), 1) };
    }

    /// Run `f` (which loads keys) with `pass` as the answer to OpenSSL's
    /// password prompt; afterwards the context answers no prompt.
    pub(super) fn with_password<T>(
        b: &mut SslContextBuilder,
        pass: Option<&str>,
        f: impl FnOnce(&mut SslContextBuilder) -> T,
    ) -> T {
        let pass = pass.and_then(|p| CString::new(p).ok());
        let ptr = pass
            .as_ref()
            .map_or(std::ptr::null_mut(), |p| p.as_ptr() as *mut c_void);
        // SAFETY: a valid SSL_CTX; the callback reads `ptr` only while
        // `pass` lives, and the user data is cleared before it is dropped.
        unsafe {
            SSL_CTX_set_default_passwd_cb(b.as_ptr(), Some(password_cb));
            SSL_CTX_set_default_passwd_cb_userdata(b.as_ptr(), ptr);
        }
        let r = f(b);
        // SAFETY: as above.
        unsafe { SSL_CTX_set_default_passwd_cb_userdata(b.as_ptr(), std::ptr::null_mut()) };
        drop(pass);
        r
    }
}

/// The settings both contexts share (Redis's redisTLSContextConfig).
struct Settings<'a> {
    cert_file: &'a str,
    key_file: &'a str,
    key_file_pass: Option<&'a str>,
    client_cert_file: Option<&'a str>,
    client_key_file: Option<&'a str>,
    client_key_file_pass: Option<&'a str>,
    ca_cert_file: Option<&'a str>,
    ca_cert_dir: Option<&'a str>,
    ciphers: Option<&'a str>,
    ciphersuites: Option<&'a str>,
}

/// Redis's createSSLContext: what the server and client contexts have in
/// common, with the certificate and key of one side.
fn base_builder(
    s: &Settings<'_>,
    protocols: u8,
    client: bool,
) -> Result<SslContextBuilder, String> {
    let (cert_file, key_file, pass) = if client {
        (
            s.client_cert_file.unwrap_or_default(),
            s.client_key_file.unwrap_or_default(),
            s.client_key_file_pass,
        )
    } else {
        (s.cert_file, s.key_file, s.key_file_pass)
    };
    let mut b = new_builder()?;
    let mut opts = SslOptions::NO_SSLV2
        | SslOptions::NO_SSLV3
        | SslOptions::DONT_INSERT_EMPTY_FRAGMENTS
        | SslOptions::NO_COMPRESSION;
    for (bit, off) in [
        (TLSV1, SslOptions::NO_TLSV1),
        (TLSV1_1, SslOptions::NO_TLSV1_1),
        (TLSV1_2, SslOptions::NO_TLSV1_2),
        (TLSV1_3, SslOptions::NO_TLSV1_3),
    ] {
        if protocols & bit == 0 {
            opts |= off;
        }
    }
    b.set_options(opts);
    b.set_mode(SslMode::ENABLE_PARTIAL_WRITE | SslMode::ACCEPT_MOVING_WRITE_BUFFER);
    // Not Redis's: read what the socket holds in one read rather than a
    // record's header and then its body (one system call per record
    // instead of two). Unobservable: tokio-openssl always asks OpenSSL
    // first, so what it read ahead is never left waiting on the socket.
    b.set_read_ahead(true);
    b.set_verify(SslVerifyMode::PEER | SslVerifyMode::FAIL_IF_NO_PEER_CERT);
    ffi::with_password(&mut b, pass, |b| {
        b.set_certificate_chain_file(cert_file).map_err(|e| {
            format!(
                "Failed to load certificate: {cert_file}: {}",
                err_string(&e)
            )
        })?;
        b.set_private_key_file(key_file, SslFiletype::PEM)
            .map_err(|e| format!("Failed to load private key: {key_file}: {}", err_string(&e)))
    })?;
    if s.ca_cert_file.is_some() || s.ca_cert_dir.is_some() {
        b.load_verify_locations(s.ca_cert_file.map(Path::new), s.ca_cert_dir.map(Path::new))
            .map_err(|e| {
                format!(
                    "Failed to configure CA certificate(s) file/directory: {}",
                    err_string(&e)
                )
            })?;
    }
    if let Some(c) = s.ciphers {
        b.set_cipher_list(c)
            .map_err(|_| format!("Failed to configure ciphers: {c}"))?;
    }
    if let Some(c) = s.ciphersuites {
        b.set_ciphersuites(c)
            .map_err(|_| format!("Failed to configure ciphersuites: {c}"))?;
    }
    Ok(b)
}

/// `SSL_CTX_new(TLS_method())`.
fn new_builder() -> Result<SslContextBuilder, String> {
    SslContextBuilder::new(SslMethod::tls()).map_err(|e| err_string(&e))
}

impl TlsContext {
    /// Build the contexts from the `tls-*` directives (Redis's
    /// tlsConfigure); on failure, the line Redis logs (at warning level).
    pub fn build(cfg: &Config) -> Result<TlsContext, String> {
        let Some(cert_file) = opt(cfg, P::tls_cert_file) else {
            return Err("No tls-cert-file configured!".into());
        };
        let Some(key_file) = opt(cfg, P::tls_key_file) else {
            return Err("No tls-key-file configured!".into());
        };
        let s = Settings {
            cert_file,
            key_file,
            key_file_pass: opt(cfg, P::tls_key_file_pass),
            client_cert_file: opt(cfg, P::tls_client_cert_file),
            client_key_file: opt(cfg, P::tls_client_key_file),
            client_key_file_pass: opt(cfg, P::tls_client_key_file_pass),
            ca_cert_file: opt(cfg, P::tls_ca_cert_file),
            ca_cert_dir: opt(cfg, P::tls_ca_cert_dir),
            ciphers: opt(cfg, P::tls_ciphers),
            ciphersuites: opt(cfg, P::tls_ciphersuites),
        };
        if (AuthClients::from_config(cfg) != AuthClients::No
            || cfg.bool(P::tls_cluster)
            || cfg.bool(P::tls_replication))
            && s.ca_cert_file.is_none()
            && s.ca_cert_dir.is_none()
        {
            return Err("Either tls-ca-cert-file or tls-ca-cert-dir must be specified when tls-cluster, tls-replication or tls-auth-clients are enabled!".into());
        }
        let protocols = parse_protocols(opt(cfg, P::tls_protocols))?;
        let server = server_context(base_builder(&s, protocols, false)?, cfg)?;
        // With a client certificate, outgoing connections get a context of
        // their own.
        let client = match (s.client_cert_file, s.client_key_file) {
            (Some(_), Some(_)) => Some(base_builder(&s, protocols, true)?.build()),
            _ => None,
        };
        Ok(TlsContext { server, client })
    }

    /// A connection's TLS state for accepting, with the verification
    /// `tls-auth-clients` asks for now (Redis's connCreateAcceptedTLS).
    pub fn accept_ssl(&self, auth: AuthClients) -> Result<ssl::Ssl, String> {
        let mut s = ssl::Ssl::new(&self.server).map_err(|e| err_string(&e))?;
        s.set_verify(auth.verify_mode());
        s.set_accept_state();
        Ok(s)
    }

    /// The context of outgoing connections: the client context when a
    /// client certificate is configured, the server's otherwise.
    pub fn client_context(&self) -> SslContext {
        self.client.as_ref().unwrap_or(&self.server).clone()
    }
}

/// The server context: the base, with session caching, cipher preference
/// and DH parameters as Redis's tlsConfigure sets them.
fn server_context(mut b: SslContextBuilder, cfg: &Config) -> Result<SslContext, String> {
    if cfg.bool(P::tls_session_caching) {
        b.set_session_cache_mode(SslSessionCacheMode::SERVER);
        b.set_session_cache_size(
            cfg.int(P::tls_session_cache_size).clamp(0, i32::MAX as i64) as i32
        );
        ffi::set_timeout(&mut b, cfg.int(P::tls_session_cache_timeout));
        b.set_session_id_context(b"redis")
            .map_err(|e| err_string(&e))?;
    } else {
        b.set_session_cache_mode(SslSessionCacheMode::OFF);
    }
    if cfg.bool(P::tls_prefer_server_ciphers) {
        b.set_options(SslOptions::CIPHER_SERVER_PREFERENCE);
    }
    b.set_options(SslOptions::SINGLE_DH_USE);
    match opt(cfg, P::tls_dh_params_file) {
        Some(file) => {
            let pem = std::fs::read(file)
                .map_err(|e| format!("Failed to load {file}: {}", os_error(&e)))?;
            let dh = Dh::params_from_pem(&pem)
                .map_err(|_| format!("{file}: failed to read DH params."))?;
            b.set_tmp_dh(&dh).map_err(|e| {
                format!("Failed to load DH params file: {file}: {}", err_string(&e))
            })?;
        }
        None => ffi::set_dh_auto(&mut b),
    }
    Ok(b.build())
}

/// Accept a TLS connection on `tcp`: the handshake, or the error text Redis
/// logs for it (`Error accepting a client connection: <this>`). As in
/// Redis, a handshake that fails on its first attempt (the client's hello
/// was already there) names the connection's descriptor.
pub async fn accept(
    ssl: ssl::Ssl,
    tcp: TcpStream,
) -> Result<tokio_openssl::SslStream<TcpStream>, String> {
    let fd = std::os::fd::AsRawFd::as_raw_fd(&tcp);
    let mut s = tokio_openssl::SslStream::new(ssl, tcp).map_err(|e| err_string(&e))?;
    let mut first = true;
    let r = std::future::poll_fn(|cx| {
        let r = Pin::new(&mut s).poll_accept(cx);
        if r.is_pending() {
            first = false;
        }
        r
    })
    .await;
    match r {
        Ok(()) => Ok(s),
        Err(e) if first => Err(format!("{} (conn: fd={fd})", ssl_error_text(&e))),
        Err(e) => Err(ssl_error_text(&e)),
    }
}

fn io_error(e: &ssl::Error) -> std::io::Error {
    std::io::Error::other(ssl_error_text(e))
}

/// An outgoing connection, plain or TLS: one type for the code that talks
/// to another server (the link to our master), whichever the transport.
pub enum Stream {
    /// Plain TCP.
    Tcp(TcpStream),
    /// TLS over TCP.
    Tls(Box<tokio_openssl::SslStream<TcpStream>>),
}

impl Stream {
    /// The TCP socket under it.
    pub fn tcp(&self) -> &TcpStream {
        match self {
            Stream::Tcp(s) => s,
            Stream::Tls(s) => s.get_ref(),
        }
    }

    /// Run the TLS handshake over `tcp` as a client with `ctx`.
    pub async fn connect_tls(ctx: SslContext, tcp: TcpStream) -> std::io::Result<Stream> {
        let ssl = ssl::Ssl::new(&ctx).map_err(std::io::Error::other)?;
        let mut s = tokio_openssl::SslStream::new(ssl, tcp).map_err(std::io::Error::other)?;
        Pin::new(&mut s).connect().await.map_err(|e| io_error(&e))?;
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
    Tls(Box<ssl::SslStream<std::net::TcpStream>>),
}

impl BlockingStream {
    /// The TCP socket under it (for its timeouts).
    pub fn tcp(&self) -> &std::net::TcpStream {
        match self {
            BlockingStream::Tcp(s) => s,
            BlockingStream::Tls(s) => s.get_ref(),
        }
    }

    /// Run the TLS handshake over `tcp` as a client with `ctx`, within
    /// `timeout` per read or write.
    pub fn tls(
        ctx: SslContext,
        tcp: std::net::TcpStream,
        timeout: Duration,
    ) -> std::io::Result<BlockingStream> {
        tcp.set_read_timeout(Some(timeout))?;
        tcp.set_write_timeout(Some(timeout))?;
        let ssl = ssl::Ssl::new(&ctx).map_err(std::io::Error::other)?;
        match ssl.connect(tcp) {
            Ok(s) => Ok(BlockingStream::Tls(Box::new(s))),
            Err(ssl::HandshakeError::Failure(m)) => Err(io_error(m.error())),
            Err(ssl::HandshakeError::WouldBlock(_)) => {
                Err(std::io::Error::from(std::io::ErrorKind::TimedOut))
            }
            Err(ssl::HandshakeError::SetupFailure(e)) => Err(std::io::Error::other(e)),
        }
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
        assert_eq!(parse_protocols(None), Ok(TLSV1_2 | TLSV1_3));
        assert_eq!(parse_protocols(Some("TLSv1.2")), Ok(TLSV1_2));
        assert_eq!(
            parse_protocols(Some("tlsv1.2 TLSv1.3")),
            Ok(TLSV1_2 | TLSV1_3)
        );
        assert_eq!(parse_protocols(Some("TLSv1 TLSv1.1")), Ok(TLSV1 | TLSV1_1));
        assert!(parse_protocols(Some("TLSv1.2 SSLv3"))
            .unwrap_err()
            .starts_with("Invalid tls-protocols specified."));
        // Split on single spaces, as sdssplitlen: an empty word is invalid.
        assert!(parse_protocols(Some("TLSv1.2  TLSv1.3")).is_err());
        assert!(parse_protocols(Some("TLSv1.2 ")).is_err());
    }

    #[test]
    fn openssl_errors_read_as_err_error_string() {
        let e = SslContextBuilder::new(SslMethod::tls())
            .unwrap()
            .set_certificate_chain_file("/nonexistent/relica.crt")
            .unwrap_err();
        assert_eq!(
            err_string(&e),
            "error:80000002:system library::No such file or directory"
        );
        let mut b = SslContextBuilder::new(SslMethod::tls()).unwrap();
        assert!(b.set_cipher_list("NOSUCHCIPHER").is_err());
        assert!(b.set_cipher_list("DEFAULT:-AES128-SHA256").is_ok());
    }
}
