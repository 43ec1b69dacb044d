//! TLS (issue 19): redis-cli `--tls` with and without a client
//! certificate, `tls-auth-clients` no/optional/yes side by side with a real
//! redis-server, a plain port beside the TLS one and `port 0` with TLS
//! only, CONFIG SET reloading the certificates, the start-up errors for
//! bad certificates (the same log lines as redis-server), an encrypted
//! key, tls-protocols/-ciphers/-ciphersuites/-prefer-server-ciphers
//! negotiating as redis-server's (`openssl s_client`), and replication over
//! TLS both ways with a real redis-server.
//!
//! The certificates are made at test time with the `openssl` command, as
//! Redis's own suite makes them (`utils/gen-test-certs.sh`): the same tool
//! the suite's TLS mode needs anyway, no extra crate, and certificates of
//! the shapes Redis users have (server-only and client-only key usages).

use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use crate::util::{free_port, int_field, wait_for, wait_same_digest, wait_up, Raw, Server};

/// A CA with a server and a client certificate in a temporary directory.
struct Certs {
    dir: tempfile::TempDir,
}

fn openssl(dir: &Path, args: &[&str]) {
    let st = Command::new("openssl")
        .args(args)
        .current_dir(dir)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .expect("openssl (scripts/test installs it)");
    assert!(st.success(), "openssl {args:?} failed");
}

impl Certs {
    fn new() -> Certs {
        let dir = tempfile::tempdir().expect("tempdir");
        let d = dir.path();
        std::fs::write(
            d.join("ext.cnf"),
            "[ server_cert ]\nkeyUsage = digitalSignature, keyEncipherment\nnsCertType = server\n\
             [ client_cert ]\nkeyUsage = digitalSignature, keyEncipherment\nnsCertType = client\n",
        )
        .expect("write ext.cnf");
        Self::ca(d, "ca");
        Self::leaf(d, "ca", "server", "server_cert");
        Self::leaf(d, "ca", "client", "client_cert");
        Certs { dir }
    }

    fn ca(d: &Path, name: &str) {
        openssl(d, &["genrsa", "-out", &format!("{name}.key"), "2048"]);
        openssl(
            d,
            &[
                "req",
                "-x509",
                "-new",
                "-nodes",
                "-sha256",
                "-key",
                &format!("{name}.key"),
                "-days",
                "30",
                "-subj",
                "/O=relica test/CN=Certificate Authority",
                "-out",
                &format!("{name}.crt"),
            ],
        );
    }

    fn leaf(d: &Path, ca: &str, name: &str, ext: &str) {
        openssl(d, &["genrsa", "-out", &format!("{name}.key"), "2048"]);
        openssl(
            d,
            &[
                "req",
                "-new",
                "-sha256",
                "-subj",
                &format!("/O=relica test/CN={name}"),
                "-key",
                &format!("{name}.key"),
                "-out",
                &format!("{name}.csr"),
            ],
        );
        openssl(
            d,
            &[
                "x509",
                "-req",
                "-sha256",
                "-in",
                &format!("{name}.csr"),
                "-CA",
                &format!("{ca}.crt"),
                "-CAkey",
                &format!("{ca}.key"),
                "-CAcreateserial",
                "-days",
                "30",
                "-extfile",
                "ext.cnf",
                "-extensions",
                ext,
                "-out",
                &format!("{name}.crt"),
            ],
        );
    }

    fn path(&self, f: &str) -> String {
        self.dir.path().join(f).to_string_lossy().into_owned()
    }

    /// The directives of a TLS server on `tls_port`.
    fn server_args(&self, tls_port: u16) -> Vec<String> {
        vec![
            "--tls-port".into(),
            tls_port.to_string(),
            "--tls-cert-file".into(),
            self.path("server.crt"),
            "--tls-key-file".into(),
            self.path("server.key"),
            "--tls-client-cert-file".into(),
            self.path("client.crt"),
            "--tls-client-key-file".into(),
            self.path("client.key"),
            "--tls-ca-cert-file".into(),
            self.path("ca.crt"),
        ]
    }

    /// redis-cli over TLS, with the client certificate or without.
    fn cli(&self, port: u16, with_cert: bool, ca: &str, args: &[&str]) -> Output {
        let mut c = Command::new("redis-cli");
        c.args(["--tls", "--cacert", &self.path(ca)]);
        if with_cert {
            c.args(["--cert", &self.path("client.crt")]);
            c.args(["--key", &self.path("client.key")]);
        }
        c.args(["-p", &port.to_string()])
            .args(args)
            .stdin(Stdio::null())
            .output()
            .expect("redis-cli")
    }

    fn cli_ok(&self, port: u16, with_cert: bool, args: &[&str]) -> String {
        let out = self.cli(port, with_cert, "ca.crt", args);
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    }
}

fn start(certs: &Certs, extra: &[&str], redis: bool) -> (Server, u16) {
    for _ in 0..5 {
        let tls_port = free_port();
        let mut args: Vec<String> = certs.server_args(tls_port);
        args.extend(extra.iter().map(|s| s.to_string()));
        let a: Vec<&str> = args.iter().map(String::as_str).collect();
        let s = if redis {
            Server::redis(&a)
        } else {
            Server::start(&a)
        };
        // The TLS port was free when picked; make sure it is ours.
        if certs
            .cli_ok(tls_port, true, &["CONFIG", "GET", "tls-port"])
            .contains(&tls_port.to_string())
        {
            return (s, tls_port);
        }
    }
    panic!("could not start a TLS server");
}

#[test]
fn redis_cli_with_and_without_a_client_certificate_as_redis_server() {
    let certs = Certs::new();
    for redis in [false, true] {
        let (s, tls) = start(&certs, &[], redis);
        let who = if redis { "redis-server" } else { "relica" };
        // tls-auth-clients yes (the default): a certificate is required.
        assert_eq!(certs.cli_ok(tls, true, &["PING"]), "PONG", "{who}");
        assert_ne!(certs.cli_ok(tls, false, &["PING"]), "PONG", "{who}");
        // optional: verified when sent, not required.
        assert_eq!(
            certs.cli_ok(
                tls,
                true,
                &["CONFIG", "SET", "tls-auth-clients", "optional"]
            ),
            "OK"
        );
        assert_eq!(certs.cli_ok(tls, false, &["PING"]), "PONG", "{who}");
        assert_eq!(certs.cli_ok(tls, true, &["PING"]), "PONG", "{who}");
        // no: not asked for.
        assert_eq!(
            certs.cli_ok(tls, true, &["CONFIG", "SET", "tls-auth-clients", "no"]),
            "OK"
        );
        assert_eq!(certs.cli_ok(tls, false, &["PING"]), "PONG", "{who}");
        // A client that does not trust the server's CA is refused by
        // its own side.
        let out = certs.cli(tls, true, "client.crt", &["PING"]);
        assert_ne!(String::from_utf8_lossy(&out.stdout).trim(), "PONG");
        // The plain port still answers plain clients.
        assert_eq!(s.raw().call(&["PING"]), "+PONG\r\n");
    }
}

#[test]
fn plain_and_tls_ports_together_and_tls_alone() {
    let certs = Certs::new();
    let (s, tls) = start(&certs, &[], false);
    let mut plain = s.raw();
    assert_eq!(plain.call(&["SET", "k", "v"]), "+OK\r\n");
    assert_eq!(certs.cli_ok(tls, true, &["GET", "k"]), "v");
    // A TLS client shows in CLIENT LIST with the TLS port as laddr.
    let list = certs.cli_ok(tls, true, &["CLIENT", "LIST"]);
    assert!(list.contains(&format!("laddr=127.0.0.1:{tls}")), "{list}");
    // A plain client on the TLS port is dropped unanswered.
    let mut r = Raw::connect(tls);
    r.send(b"*1\r\n$4\r\nPING\r\n");
    let mut buf = [0u8; 64];
    use std::io::Read;
    match r.s.read(&mut buf) {
        Ok(0) => {}
        Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => {}
        other => panic!("a plain client on the TLS port must be dropped: {other:?}"),
    }
    drop(s);

    // port 0: TLS only; INFO's tcp_port is the TLS port, as in Redis.
    let (s, tls) = start(&certs, &["--port", "0"], false);
    let info = certs.cli_ok(tls, true, &["INFO", "server"]);
    assert!(info.contains(&format!("tcp_port:{tls}")), "{info}");
    assert!(s
        .log_text()
        .contains(&format!("Running mode=standalone, port={tls}.")));
}

#[test]
fn config_set_reloads_certificates_and_keeps_them_on_failure() {
    let certs = Certs::new();
    // A second CA with its own server certificate.
    let d = certs.dir.path();
    Certs::ca(d, "ca2");
    Certs::leaf(d, "ca2", "server2", "server_cert");
    let (s, tls) = start(&certs, &["--tls-auth-clients", "no"], false);
    let mut plain = s.raw();
    // A bad certificate: refused with Redis's error, the old one kept.
    let missing = certs.path("missing.crt");
    assert_eq!(
        plain.call(&["CONFIG", "SET", "tls-cert-file", &missing]),
        "-ERR CONFIG SET failed (possibly related to argument 'tls-cert-file') - Unable to update TLS configuration. Check server logs.\r\n"
    );
    assert!(s
        .log_text()
        .contains(&format!("Failed to load certificate: {missing}: ")));
    assert_eq!(
        plain.call(&["CONFIG", "GET", "tls-cert-file"]),
        format!(
            "*2\r\n$13\r\ntls-cert-file\r\n${}\r\n{}\r\n",
            certs.path("server.crt").len(),
            certs.path("server.crt")
        )
    );
    assert_eq!(certs.cli_ok(tls, false, &["PING"]), "PONG");
    // A certificate whose key does not match.
    assert!(plain
        .call(&["CONFIG", "SET", "tls-cert-file", &certs.path("server2.crt"),])
        .contains("Unable to update TLS configuration"));
    assert!(s.log_text().contains("key values mismatch"));
    // Certificate and key together: new connections see the new one.
    assert_eq!(
        plain.call(&[
            "CONFIG",
            "SET",
            "tls-cert-file",
            &certs.path("server2.crt"),
            "tls-key-file",
            &certs.path("server2.key"),
        ]),
        "+OK\r\n"
    );
    let with_ca2 = certs.cli(tls, false, "ca2.crt", &["PING"]);
    assert_eq!(String::from_utf8_lossy(&with_ca2.stdout).trim(), "PONG");
    assert_ne!(certs.cli_ok(tls, false, &["PING"]), "PONG");

    // An encrypted key needs tls-key-file-pass.
    let enc = certs.path("server.key.enc");
    openssl(
        d,
        &[
            "rsa",
            "-in",
            &certs.path("server.key"),
            "-out",
            &enc,
            "-aes256",
            "-passout",
            "pass:1234",
        ],
    );
    assert_eq!(
        plain.call(&[
            "CONFIG",
            "SET",
            "tls-cert-file",
            &certs.path("server.crt"),
            "tls-key-file",
            &enc,
        ]),
        // As Redis: the first directive of the failed apply is named.
        "-ERR CONFIG SET failed (possibly related to argument 'tls-cert-file') - Unable to update TLS configuration. Check server logs.\r\n"
    );
    assert_eq!(
        plain.call(&[
            "CONFIG",
            "SET",
            "tls-key-file-pass",
            "1234",
            "tls-cert-file",
            &certs.path("server.crt"),
            "tls-key-file",
            &enc,
        ]),
        "+OK\r\n"
    );
    assert_eq!(certs.cli_ok(tls, false, &["PING"]), "PONG");

    // The CA from a directory (tls-ca-cert-dir) verifies client
    // certificates as the file did: OpenSSL finds them by their subject
    // hash (the names `openssl rehash` makes).
    let cadir = d.join("cadir");
    std::fs::create_dir(&cadir).expect("mkdir");
    let hash = Command::new("openssl")
        .args(["x509", "-hash", "-noout", "-in", &certs.path("ca.crt")])
        .output()
        .expect("openssl");
    let hash = String::from_utf8_lossy(&hash.stdout).trim().to_string();
    std::fs::copy(d.join("ca.crt"), cadir.join(format!("{hash}.0"))).expect("copy");
    std::fs::write(cadir.join("README"), "not a certificate").expect("write");
    assert_eq!(
        plain.call(&[
            "CONFIG",
            "SET",
            "tls-ca-cert-file",
            "",
            "tls-ca-cert-dir",
            &cadir.to_string_lossy(),
            "tls-auth-clients",
            "yes",
        ]),
        "+OK\r\n"
    );
    assert_eq!(certs.cli_ok(tls, true, &["PING"]), "PONG");
    assert_ne!(certs.cli_ok(tls, false, &["PING"]), "PONG");

    // CONFIG SET tls-port opens and closes the listener.
    let other = free_port();
    assert_eq!(
        plain.call(&["CONFIG", "SET", "tls-port", &other.to_string()]),
        "+OK\r\n"
    );
    assert_eq!(certs.cli_ok(other, true, &["PING"]), "PONG");
    assert_eq!(plain.call(&["CONFIG", "SET", "tls-port", "0"]), "+OK\r\n");
    // Closed by the time CONFIG SET answers, as in Redis (unit/networking
    // connects right after its CONFIG SET bind and expects a refusal).
    assert!(std::net::TcpStream::connect(("127.0.0.1", other)).is_err());
    assert_ne!(certs.cli_ok(other, true, &["PING"]), "PONG");
}

/// Run `bin` until it exits (a start-up that must fail); its log lines at
/// warning level (`# ...`), without the pid and time.
fn failed_start_of(bin: &std::ffi::OsStr, args: &[&str]) -> Vec<String> {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut child = Command::new(bin)
        .args(["--port", "0", "--save", ""])
        .args(args)
        .current_dir(dir.path())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn the server");
    let start = Instant::now();
    loop {
        if let Ok(Some(st)) = child.try_wait() {
            assert_eq!(st.code(), Some(1), "start-up must fail");
            break;
        }
        if start.elapsed() > Duration::from_secs(20) {
            let _ = child.kill();
            let _ = child.wait();
            panic!("{bin:?} started with {args:?}");
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    let mut out = String::new();
    use std::io::Read;
    if let Some(mut o) = child.stdout.take() {
        let _ = o.read_to_string(&mut out);
    }
    out.lines()
        .filter_map(|l| l.split_once(" # ").map(|(_, t)| t.to_string()))
        .filter(|t| !t.starts_with("Warning") && !t.starts_with("WARNING"))
        .collect()
}

fn redis_server_bin() -> std::ffi::OsString {
    std::env::var_os("PATH")
        .and_then(|p| {
            std::env::split_paths(&p)
                .map(|d| d.join("redis-server"))
                .find(|b| b.is_file())
        })
        .expect("redis-server not found in PATH (scripts/test installs it)")
        .into_os_string()
}

/// Start-up with bad TLS settings fails with the lines redis-server logs,
/// OpenSSL's error strings included (same library, same calls).
#[test]
fn bad_certificates_stop_start_up_with_redis_log_lines() {
    let certs = Certs::new();
    let d = certs.dir.path();
    openssl(
        d,
        &[
            "rsa",
            "-in",
            "server.key",
            "-out",
            "server.key.enc",
            "-aes256",
            "-passout",
            "pass:1234",
        ],
    );
    std::fs::write(d.join("bad.dh"), "not DH parameters\n").expect("write");
    let port = free_port().to_string();
    let (crt, key, ca) = (
        certs.path("server.crt"),
        certs.path("server.key"),
        certs.path("ca.crt"),
    );
    let enc = certs.path("server.key.enc");
    let missing = certs.path("nope.crt");
    let bad_dh = certs.path("bad.dh");
    let full = |extra: &[&'static str]| -> Vec<String> {
        let mut v: Vec<String> = [
            "--tls-port",
            &port,
            "--tls-cert-file",
            &crt,
            "--tls-key-file",
            &key,
            "--tls-ca-cert-file",
            &ca,
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        v.extend(extra.iter().map(|s| s.to_string()));
        v
    };
    let owned = |v: &[&str]| -> Vec<String> { v.iter().map(|s| s.to_string()).collect() };
    let cases: Vec<(Vec<String>, String)> = vec![
        (
            owned(&[
                "--tls-port",
                &port,
                "--tls-cert-file",
                &missing,
                "--tls-key-file",
                &key,
                "--tls-ca-cert-file",
                &ca,
            ]),
            format!(
                "Failed to load certificate: {missing}: error:80000002:system library::No such file or directory"
            ),
        ),
        (
            owned(&["--tls-port", &port, "--tls-cert-file", &crt]),
            "No tls-key-file configured!".into(),
        ),
        (
            owned(&["--tls-port", &port, "--tls-cert-file", &crt, "--tls-key-file", &key]),
            "Either tls-ca-cert-file or tls-ca-cert-dir must be specified when tls-cluster, tls-replication or tls-auth-clients are enabled!".into(),
        ),
        // A key that is not one.
        (
            owned(&[
                "--tls-port",
                &port,
                "--tls-cert-file",
                &crt,
                "--tls-key-file",
                &crt,
                "--tls-ca-cert-file",
                &ca,
            ]),
            format!("Failed to load private key: {crt}: "),
        ),
        // An encrypted key without its password.
        (
            owned(&[
                "--tls-port",
                &port,
                "--tls-cert-file",
                &crt,
                "--tls-key-file",
                &enc,
                "--tls-ca-cert-file",
                &ca,
            ]),
            format!("Failed to load private key: {enc}: "),
        ),
        (
            full(&["--tls-protocols", "TLSv1.2 SSLv3"]),
            "Invalid tls-protocols specified. Use a combination of 'TLSv1', 'TLSv1.1', 'TLSv1.2' and 'TLSv1.3'.".into(),
        ),
        (
            full(&["--tls-ciphers", "NOSUCHCIPHER"]),
            "Failed to configure ciphers: NOSUCHCIPHER".into(),
        ),
        (
            full(&["--tls-ciphersuites", "AES128-SHA256"]),
            "Failed to configure ciphersuites: AES128-SHA256".into(),
        ),
        (
            {
                let mut v = full(&[]);
                v.extend(["--tls-dh-params-file".to_string(), missing.clone()]);
                v
            },
            format!("Failed to load {missing}: No such file or directory"),
        ),
        (
            {
                let mut v = full(&[]);
                v.extend(["--tls-dh-params-file".to_string(), bad_dh.clone()]);
                v
            },
            format!("{bad_dh}: failed to read DH params."),
        ),
    ];
    let relica = std::ffi::OsString::from(env!("CARGO_BIN_EXE_relica-server"));
    let redis = redis_server_bin();
    for (args, want) in cases {
        let a: Vec<&str> = args.iter().map(String::as_str).collect();
        let ours = failed_start_of(&relica, &a);
        let theirs = failed_start_of(&redis, &a);
        assert!(
            ours.iter().any(|l| l.starts_with(&want)),
            "{want}: {ours:?}"
        );
        assert!(
            ours.contains(&"Failed to configure TLS. Check logs for more info.".to_string()),
            "{ours:?}"
        );
        // The same lines as redis-server, OpenSSL's words included.
        let pick = |v: &[String]| -> Vec<String> {
            v.iter()
                .filter(|l| {
                    !l.starts_with("Configuration loaded")
                        && !l.contains("oO0OoO0OoO0Oo")
                        && !l.contains("just started")
                })
                .cloned()
                .collect()
        };
        assert_eq!(pick(&ours), pick(&theirs), "{a:?}");
    }
}

fn fill(r: &mut Raw, from: usize, n: usize) {
    for i in from..from + n {
        assert_eq!(
            r.call(&["SET", &format!("key:{i}"), &format!("value:{i}")]),
            "+OK\r\n"
        );
    }
    assert_eq!(
        r.call(&["RPUSH", "list", "a", "b", "c"]).chars().next(),
        Some(':')
    );
}

/// Replication over TLS with a real redis-server on the other end, both
/// ways: full sync, then the stream.
#[test]
fn tls_replication_both_ways_with_redis_server() {
    let certs = Certs::new();
    for relica_master in [true, false] {
        let repl = ["--tls-replication", "yes"];
        let (m, m_tls) = start(&certs, &repl, !relica_master);
        let (r, _) = start(&certs, &repl, relica_master);
        let mut mr = m.raw();
        let mut rr = r.raw();
        fill(&mut mr, 0, 200);
        assert_eq!(
            rr.call(&["REPLICAOF", "127.0.0.1", &m_tls.to_string()]),
            "+OK\r\n"
        );
        wait_up(&mut rr);
        wait_same_digest(&mut mr, &mut rr);
        fill(&mut mr, 200, 200);
        wait_same_digest(&mut mr, &mut rr);
        assert_eq!(rr.call(&["GET", "key:399"]), "$9\r\nvalue:399\r\n");
        // The master sees its replica on the replica's TLS port.
        let r_tls = {
            let t = rr.call(&["CONFIG", "GET", "tls-port"]);
            t.lines().last().unwrap_or_default().trim().to_string()
        };
        wait_for("the replica in INFO", Duration::from_secs(30), || {
            mr.info_field("slave0").contains(&format!("port={r_tls},"))
        });
    }
}

/// X.509 v1 certificates (`openssl x509 -req` without extensions, as
/// Redis's gen-test-certs.sh makes redis.crt): relica serves with one and
/// accepts a peer's when the CA signed it, as OpenSSL does; a v1
/// certificate from another CA is refused.
#[test]
fn x509_v1_certificates_as_openssl() {
    let certs = Certs::new();
    let d = certs.dir.path();
    // A v1 leaf: no -extfile.
    openssl(d, &["genrsa", "-out", "v1.key", "2048"]);
    openssl(
        d,
        &[
            "req",
            "-new",
            "-sha256",
            "-subj",
            "/O=relica test/CN=v1",
            "-key",
            "v1.key",
            "-out",
            "v1.csr",
        ],
    );
    openssl(
        d,
        &[
            "x509",
            "-req",
            "-sha256",
            "-in",
            "v1.csr",
            "-CA",
            "ca.crt",
            "-CAkey",
            "ca.key",
            "-CAcreateserial",
            "-days",
            "30",
            "-out",
            "v1.crt",
        ],
    );
    let text = Command::new("openssl")
        .args(["x509", "-noout", "-text", "-in", &certs.path("v1.crt")])
        .output()
        .expect("openssl");
    assert!(String::from_utf8_lossy(&text.stdout).contains("Version: 1 (0x0)"));
    let v1 = [
        "--tls-replication",
        "yes",
        "--tls-cert-file",
        &certs.path("v1.crt"),
        "--tls-key-file",
        &certs.path("v1.key"),
        "--tls-client-cert-file",
        &certs.path("v1.crt"),
        "--tls-client-key-file",
        &certs.path("v1.key"),
    ];
    // Master and replica both on the v1 certificate: each verifies the
    // other's (server and client side).
    let (m, m_tls) = start(&certs, &v1, false);
    let (r, _) = start(&certs, &v1, false);
    let mut mr = m.raw();
    let mut rr = r.raw();
    fill(&mut mr, 0, 10);
    assert_eq!(
        rr.call(&["REPLICAOF", "127.0.0.1", &m_tls.to_string()]),
        "+OK\r\n"
    );
    wait_up(&mut rr);
    wait_same_digest(&mut mr, &mut rr);
    // redis-cli (OpenSSL) trusts relica's v1 certificate.
    assert_eq!(certs.cli_ok(m_tls, true, &["PING"]), "PONG");
    // A v1 client certificate of another CA is refused.
    Certs::ca(d, "ca3");
    openssl(
        d,
        &[
            "x509",
            "-req",
            "-sha256",
            "-in",
            "v1.csr",
            "-CA",
            "ca3.crt",
            "-CAkey",
            "ca3.key",
            "-CAcreateserial",
            "-days",
            "30",
            "-out",
            "v1other.crt",
        ],
    );
    let out = Command::new("redis-cli")
        .args(["--tls", "--cacert", &certs.path("ca.crt")])
        .args([
            "--cert",
            &certs.path("v1other.crt"),
            "--key",
            &certs.path("v1.key"),
        ])
        .args(["-p", &m_tls.to_string(), "PING"])
        .stdin(Stdio::null())
        .output()
        .expect("redis-cli");
    assert_ne!(String::from_utf8_lossy(&out.stdout).trim(), "PONG");
}

/// A connection in its TLS handshake holds a client slot, as in Redis:
/// handshakes that never finish cannot pile up past maxclients.
#[test]
fn stalled_handshakes_count_against_maxclients() {
    let certs = Certs::new();
    let (s, tls) = start(&certs, &["--maxclients", "4"], false);
    // The harness's own connections are gone once it started.
    let stalled: Vec<Raw> = (0..4).map(|_| Raw::connect(tls)).collect();
    wait_for(
        "the stalled handshakes to be refused room",
        Duration::from_secs(20),
        || certs.cli_ok(tls, true, &["PING"]) != "PONG",
    );
    let mut plain = s.raw();
    assert!(int_field(&mut plain, "rejected_connections") >= 1);
    drop(stalled);
    drop(plain);
    wait_for(
        "a slot after the stalled ones left",
        Duration::from_secs(20),
        || certs.cli_ok(tls, true, &["PING"]) == "PONG",
    );
}

/// What `openssl s_client` (with the client certificate) negotiates with
/// the server on `port`: protocol and cipher, or None when the handshake
/// fails.
fn negotiate(certs: &Certs, port: u16, args: &[&str]) -> Option<(String, String)> {
    let out = Command::new("openssl")
        .args([
            "s_client",
            "-connect",
            &format!("127.0.0.1:{port}"),
            "-brief",
        ])
        .args(["-CAfile", &certs.path("ca.crt")])
        .args(["-cert", &certs.path("client.crt")])
        .args(["-key", &certs.path("client.key")])
        .args(args)
        .stdin(Stdio::null())
        .output()
        .expect("openssl s_client");
    if !out.status.success() {
        return None;
    }
    let text = String::from_utf8_lossy(&out.stderr);
    let field = |name: &str| {
        text.lines()
            .find_map(|l| l.strip_prefix(name))
            .map(|v| v.trim().to_string())
    };
    Some((field("Protocol version:")?, field("Ciphersuite:")?))
}

/// tls-protocols, tls-ciphers, tls-ciphersuites and
/// tls-prefer-server-ciphers against redis-server: the same CONFIG SETs,
/// then the same clients, negotiate the same protocol and cipher, or fail
/// alike (the static-RSA CBC suites of Redis's unit/tls included).
#[test]
fn ciphers_and_protocols_negotiate_as_redis_server() {
    let certs = Certs::new();
    let mut seen = Vec::new();
    for redis in [false, true] {
        let (s, tls) = start(&certs, &[], redis);
        let mut plain = s.raw();
        let mut set = |pairs: &[&str]| -> String {
            let mut cmd = vec!["CONFIG", "SET"];
            cmd.extend_from_slice(pairs);
            plain.call(&cmd)
        };
        let mut out: Vec<String> = Vec::new();
        let neg = |label: &str, args: &[&str]| -> String {
            format!("{label}: {:?}", negotiate(&certs, tls, args))
        };
        out.push(neg("default", &[]));
        out.push(neg("default, TLSv1.2 client", &["-tls1_2"]));
        assert_eq!(set(&["tls-protocols", "TLSv1.2"]), "+OK\r\n");
        out.push(neg("TLSv1.2 only, TLSv1.3 client", &["-tls1_3"]));
        out.push(neg("TLSv1.2 only, TLSv1.2 client", &["-tls1_2"]));
        assert_eq!(set(&["tls-ciphers", "DEFAULT:-AES128-SHA256"]), "+OK\r\n");
        out.push(neg(
            "without AES128-SHA256",
            &["-cipher", "-ALL:AES128-SHA256"],
        ));
        out.push(neg(
            "without AES128-SHA256, AES256",
            &["-cipher", "-ALL:AES256-SHA256"],
        ));
        assert_eq!(set(&["tls-ciphers", "DEFAULT"]), "+OK\r\n");
        out.push(neg(
            "DEFAULT, AES128-SHA256",
            &["-cipher", "-ALL:AES128-SHA256"],
        ));
        assert_eq!(
            set(&["tls-ciphers", "AES128-SHA256:AES256-SHA256"]),
            "+OK\r\n"
        );
        out.push(neg(
            "client order",
            &["-cipher", "AES256-SHA256:AES128-SHA256"],
        ));
        assert_eq!(set(&["tls-prefer-server-ciphers", "yes"]), "+OK\r\n");
        out.push(neg(
            "server order",
            &["-cipher", "AES256-SHA256:AES128-SHA256"],
        ));
        // DHE with OpenSSL's automatic parameters (no tls-dh-params-file).
        assert_eq!(
            set(&["tls-ciphers", "DHE-RSA-AES128-GCM-SHA256"]),
            "+OK\r\n"
        );
        out.push(neg("DHE", &["-cipher", "DHE-RSA-AES128-GCM-SHA256"]));
        out.push(neg(
            "DHE only, ECDHE client",
            &["-cipher", "ECDHE-RSA-AES128-GCM-SHA256"],
        ));
        // TLSv1.3 suites.
        assert_eq!(
            set(&[
                "tls-protocols",
                "TLSv1.3",
                "tls-ciphersuites",
                "TLS_CHACHA20_POLY1305_SHA256"
            ]),
            "+OK\r\n"
        );
        out.push(neg("TLSv1.3 ChaCha20", &[]));
        out.push(neg(
            "TLSv1.3, AES-128 client",
            &["-ciphersuites", "TLS_AES_128_GCM_SHA256"],
        ));
        // Bad values are refused alike, and the contexts kept.
        out.push(set(&["tls-ciphers", "NOSUCHCIPHER"]));
        out.push(set(&["tls-ciphersuites", "AES128-SHA256"]));
        out.push(set(&["tls-protocols", "TLSv1.2 SSLv3"]));
        out.push(neg("after refused settings", &[]));
        // Back to the defaults.
        assert_eq!(
            set(&[
                "tls-protocols",
                "",
                "tls-ciphersuites",
                "",
                "tls-ciphers",
                "",
                "tls-prefer-server-ciphers",
                "no"
            ]),
            "+OK\r\n"
        );
        out.push(neg("defaults again, TLSv1.2 client", &["-tls1_2"]));
        seen.push(out);
    }
    let (ours, theirs) = (&seen[0], &seen[1]);
    for (a, b) in ours.iter().zip(theirs) {
        assert_eq!(a, b);
    }
    // What Redis's unit/tls looks for.
    assert!(ours.contains(&"without AES128-SHA256: None".to_string()));
    assert!(ours.contains(&r#"client order: Some(("TLSv1.2", "AES256-SHA256"))"#.to_string()));
    assert!(ours.contains(&r#"server order: Some(("TLSv1.2", "AES128-SHA256"))"#.to_string()));
    assert!(ours.contains(
        &r#"TLSv1.3 ChaCha20: Some(("TLSv1.3", "TLS_CHACHA20_POLY1305_SHA256"))"#.to_string()
    ));
}
