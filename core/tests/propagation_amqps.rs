//! `amqps`: the RabbitMQ transport over TLS (lapin + rustls, the trust roots of
//! `rustls-native-certs`), against a TLS listener this test owns: `socat` terminates TLS
//! with a certificate the test issues from its own CA (`openssl`) and forwards to the shared
//! broker at 127.0.0.1:5672, which is left untouched. `SSL_CERT_FILE` points the trust roots
//! at that CA (this binary holds this one test, so no other test sees the variable).
//! Needs `openssl` and `socat` on the PATH (scripts/rust.sh installs socat); fails, never
//! skips, without them.

#[path = "support/propagation.rs"]
mod prop_support;

use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use authcore::propagation::amqp::{AmqpOptions, AmqpProtocol, AmqpTransport};
use authcore::propagation::{DeliveryHandler, Transport};
use prop_support::{Lines, delete_queues};

/// A TLS listener on a free port (socat), killed on drop.
struct TlsProxy {
    port: u16,
    child: Child,
}

impl Drop for TlsProxy {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn openssl(dir: &Path, args: &[&str]) {
    let out = Command::new("openssl")
        .current_dir(dir)
        .args(args)
        .output()
        .expect("openssl on the PATH");
    assert!(
        out.status.success(),
        "openssl {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A CA (`<name>-ca.pem`) and a server certificate it signed for localhost / 127.0.0.1
/// (`<name>.pem`, key `<name>.key`).
fn issue(dir: &Path, name: &str) {
    let ec = [
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:prime256v1",
        "-nodes",
    ];
    let ca_key = format!("{name}-ca.key");
    let ca = format!("{name}-ca.pem");
    let mut args = vec!["req", "-x509"];
    args.extend(ec);
    args.extend([
        "-keyout",
        &ca_key,
        "-out",
        &ca,
        "-days",
        "1",
        "-subj",
        "/CN=authcore test CA",
        "-addext",
        "basicConstraints=critical,CA:TRUE",
        "-addext",
        "keyUsage=critical,keyCertSign",
    ]);
    openssl(dir, &args);
    let key = format!("{name}.key");
    let csr = format!("{name}.csr");
    let mut args = vec!["req"];
    args.extend(ec);
    args.extend(["-keyout", &key, "-out", &csr, "-subj", "/CN=localhost"]);
    openssl(dir, &args);
    let ext = format!("{name}.ext");
    std::fs::write(
        dir.join(&ext),
        "subjectAltName=DNS:localhost,IP:127.0.0.1\n\
         extendedKeyUsage=serverAuth\n\
         basicConstraints=CA:FALSE\n",
    )
    .unwrap();
    let pem = format!("{name}.pem");
    openssl(
        dir,
        &[
            "x509",
            "-req",
            "-in",
            &csr,
            "-CA",
            &ca,
            "-CAkey",
            &ca_key,
            "-CAcreateserial",
            "-out",
            &pem,
            "-days",
            "1",
            "-extfile",
            &ext,
        ],
    );
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// socat: TLS on a free port with `<name>.pem`, forwarded to the broker.
fn proxy(dir: &Path, name: &str) -> TlsProxy {
    let port = free_port();
    let cert = dir.join(format!("{name}.pem"));
    let key = dir.join(format!("{name}.key"));
    let child = Command::new("socat")
        .arg(format!(
            "OPENSSL-LISTEN:{port},bind=127.0.0.1,reuseaddr,fork,cert={},key={},verify=0",
            cert.display(),
            key.display()
        ))
        .arg("TCP:127.0.0.1:5672")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("socat on the PATH (scripts/rust.sh installs it)");
    let start = Instant::now();
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "socat did not listen"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    TlsProxy { port, child }
}

struct Received(Mutex<Vec<(Vec<u8>, Option<String>)>>);

#[async_trait]
impl DeliveryHandler for Received {
    async fn handle(&self, body: Vec<u8>) -> Result<(), String> {
        self.handle_signed(body, None).await
    }
    async fn handle_signed(&self, body: Vec<u8>, sig: Option<String>) -> Result<(), String> {
        self.0.lock().unwrap().push((body, sig));
        Ok(())
    }
}

fn opts(port: u16, own_queue: &str) -> AmqpOptions {
    AmqpOptions {
        protocol: AmqpProtocol::Amqps,
        host: "localhost".into(),
        port,
        user: "guest".into(),
        password: "guest".into(),
        vhost: "/".into(),
        own_queue: own_queue.into(),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn amqps_verifies_the_broker_certificate_and_carries_events() {
    let dir: PathBuf = std::env::temp_dir().join(format!(
        "authcore-amqps-{}-{}",
        std::process::id(),
        authcore::propagation::wire::random_uuid().unwrap()
    ));
    std::fs::create_dir_all(&dir).unwrap();
    issue(&dir, "trusted");
    issue(&dir, "stranger");
    // The trust roots: the test CA only (rustls-native-certs reads SSL_CERT_FILE instead
    // of the system store). This binary runs this one test: nothing else reads it.
    unsafe { std::env::set_var("SSL_CERT_FILE", dir.join("trusted-ca.pem")) };
    let trusted = proxy(&dir, "trusted");
    let stranger = proxy(&dir, "stranger");
    let queue = format!(
        "authcore-amqps-{}.queue",
        &authcore::propagation::wire::random_uuid().unwrap()[..8]
    );

    // A certificate from an unknown CA: the connect fails (and retries in the background).
    let lines = Arc::new(Lines::default());
    let refused = AmqpTransport::connect(opts(stranger.port, &queue), lines.clone()).await;
    assert!(!refused.is_connected());
    let log = lines.0.lock().unwrap().join("\n");
    assert!(log.contains("amqps://guest:***@localhost:"), "{log}");
    assert!(log.contains("invalid peer certificate"), "{log}");
    refused.close().await;

    // The CA's certificate: connected over TLS; events go through both ways.
    let lines = Arc::new(Lines::default());
    let t = AmqpTransport::connect(opts(trusted.port, &queue), lines.clone()).await;
    assert!(t.is_connected(), "{:?}", lines.0.lock().unwrap());
    let got = Arc::new(Received(Mutex::default()));
    t.start_consume(got.clone()).await.unwrap();
    t.publish(&queue, br#"{"n":1}"#).await.unwrap();
    t.publish_signed(&queue, br#"{"n":2}"#, Some("sha256=ab"))
        .await
        .unwrap();
    let start = Instant::now();
    while got.0.lock().unwrap().len() < 2 {
        assert!(start.elapsed() < Duration::from_secs(20), "deliveries");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(
        *got.0.lock().unwrap(),
        vec![
            (br#"{"n":1}"#.to_vec(), None),
            (br#"{"n":2}"#.to_vec(), Some("sha256=ab".to_owned()))
        ]
    );
    t.close().await;

    // Clean up the queue over plain AMQP.
    delete_queues("%2f", &[queue]).await;
    drop((trusted, stranger));
    let _ = std::fs::remove_dir_all(&dir);
}
