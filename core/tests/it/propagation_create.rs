//! `propagation::create::create`, the one `createPropagator(options)` of every binding:
//! the original's checks with JavaScript truthiness, their order against the binding's
//! conversion errors, no I/O before the options are valid, and the core hashing a
//! track's secrets with the pepper its store names.

use crate::prop_support;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use authcore::hmac::crypto::hash_client_secret;
use authcore::propagation::create::{CreateOptions, Given, RedisOption, Shape, StateMode, create};
use authcore::propagation::propagator::*;
use authcore::propagation::state::RedisOps;
use authcore::propagation::wire;
use authcore::store::StoreError;
use prop_support::*;

fn unique(tag: &str) -> String {
    format!("{tag}-{}", wire::random_uuid().unwrap())
}

/// A credential store that records the hashes it is given and names its pepper.
#[derive(Default)]
struct Recording {
    pepper: Option<String>,
    hashes: Mutex<Vec<(String, String)>>,
}

#[async_trait]
impl CredentialSink for Recording {
    async fn exists(&self, _: &str) -> Result<bool, SinkError> {
        Ok(false)
    }
    async fn set_secret_hash(
        &self,
        id: &str,
        hash: &str,
        _: Option<f64>,
        _: Option<Vec<String>>,
    ) -> Result<(), SinkError> {
        self.hashes
            .lock()
            .unwrap()
            .push((id.to_owned(), hash.to_owned()));
        Ok(())
    }
    async fn delete(&self, _: &str) -> Result<(), SinkError> {
        Ok(())
    }
    fn secret_token(&self) -> Option<&str> {
        self.pepper.as_deref()
    }
}

/// A host client object that records every command (none may run before the checks pass).
#[derive(Default)]
struct Calls(Mutex<Vec<String>>);

#[async_trait]
impl RedisOps for Calls {
    async fn h_get(&self, _: &str, _: &str) -> Result<Option<String>, StoreError> {
        self.0.lock().unwrap().push("hGet".into());
        Ok(None)
    }
    async fn h_set(&self, _: &str, _: &[(&str, &str)]) -> Result<(), StoreError> {
        self.0.lock().unwrap().push("hSet".into());
        Ok(())
    }
    async fn h_get_all(&self, _: &str) -> Result<HashMap<String, String>, StoreError> {
        self.0.lock().unwrap().push("hGetAll".into());
        Ok(HashMap::new())
    }
    async fn h_del(&self, _: &str, _: &str) -> Result<(), StoreError> {
        self.0.lock().unwrap().push("hDel".into());
        Ok(())
    }
    async fn s_add(&self, _: &str, _: &str) -> Result<(), StoreError> {
        self.0.lock().unwrap().push("sAdd".into());
        Ok(())
    }
    async fn s_rem(&self, _: &str, _: &str) -> Result<(), StoreError> {
        self.0.lock().unwrap().push("sRem".into());
        Ok(())
    }
    async fn s_card(&self, _: &str) -> Result<u64, StoreError> {
        self.0.lock().unwrap().push("sCard".into());
        Ok(0)
    }
    async fn expire(&self, _: &str, _: i64) -> Result<(), StoreError> {
        self.0.lock().unwrap().push("expire".into());
        Ok(())
    }
    async fn del(&self, _: &str) -> Result<(), StoreError> {
        self.0.lock().unwrap().push("del".into());
        Ok(())
    }
}

/// Valid options of an in-process mesh peer with an http store.
fn valid(mesh: &str, sink: Arc<dyn CredentialSink>) -> CreateOptions {
    CreateOptions {
        amqp_host: Given::string(mesh),
        amqp_port: Given::number(5672.0),
        amqp_user: Given::string("guest"),
        amqp_password: Given::string("guest"),
        amqp_protocol: Given::string("memory"),
        amqp_queue: Given::string("peer-a"),
        propagation_secret: Given::string("secret-of-a"),
        redis: Given::new(
            Shape::of_str("memory://"),
            Ok(RedisOption::Url("memory://".into())),
        ),
        hmac_http_auth: Given::new(Shape::Object, Ok(sink)),
        ..CreateOptions::default()
    }
}

async fn error_of(o: CreateOptions) -> (String, String) {
    let e = create(o).await.expect_err("create must fail");
    (e.code().to_owned(), e.to_string())
}

fn invalid(message: &str) -> (String, String) {
    ("INVALID_OPTIONS".into(), message.into())
}

#[tokio::test]
async fn javascript_truthiness_in_the_original_order() {
    let sink = || Arc::new(Recording::default()) as Arc<dyn CredentialSink>;
    let mesh = unique("create-truthy");
    for port in [f64::NAN, 0.0, -0.0] {
        let o = CreateOptions {
            amqp_port: Given::number(port),
            amqp_user: Given::absent(),
            ..valid(&mesh, sink())
        };
        assert_eq!(error_of(o).await, invalid("amqpPort is required"));
    }
    let o = CreateOptions {
        amqp_host: Given::string(""),
        propagation_secret: Given::string(""),
        ..valid(&mesh, sink())
    };
    assert_eq!(error_of(o).await, invalid("amqpHost is required"));
    let o = CreateOptions {
        amqp_protocol: Given::new(Shape::Bool(false), Ok("false".into())),
        ..valid(&mesh, sink())
    };
    assert_eq!(error_of(o).await, invalid("amqpProtocol is required"));
    let o = CreateOptions {
        hmac_http_auth: Given::absent(),
        ..valid(&mesh, sink())
    };
    assert_eq!(
        error_of(o).await,
        invalid("At least one of hmacHttpAuth or hmacMessageAuth must be provided")
    );
}

#[tokio::test]
async fn a_conversion_error_comes_after_the_presence_checks() {
    let sink = || Arc::new(Recording::default()) as Arc<dyn CredentialSink>;
    let mesh = unique("create-types");
    let wrong = || {
        Err(PropagationError::Callback(CallbackError::new(
            "amqp_host must be a str",
        )))
    };
    // A truthy host of the wrong type, but a missing port: the original's message first.
    let o = CreateOptions {
        amqp_host: Given::new(Shape::Number(5.0), wrong()),
        amqp_port: Given::absent(),
        ..valid(&mesh, sink())
    };
    assert_eq!(error_of(o).await, invalid("amqpPort is required"));
    let o = CreateOptions {
        amqp_host: Given::new(Shape::Number(5.0), wrong()),
        ..valid(&mesh, sink())
    };
    assert_eq!(
        error_of(o).await,
        ("CALLBACK_ERROR".into(), "amqp_host must be a str".into())
    );
}

#[tokio::test]
async fn queue_name_then_settings_then_stores_and_no_io_before() {
    let calls = Arc::new(Calls::default());
    let client = || {
        Given::new(
            Shape::Object,
            Ok(RedisOption::Client {
                ops: calls.clone() as Arc<dyn RedisOps>,
                native_url: Some("redis://127.0.0.1:6379".into()),
            }),
        )
    };
    let sink = || Arc::new(Recording::default()) as Arc<dyn CredentialSink>;
    let mesh = unique("create-order");
    let o = CreateOptions {
        amqp_queue: Given::string("bad name"),
        amqp_protocol: Given::string("http"),
        redis: client(),
        ..valid(&mesh, sink())
    };
    assert_eq!(
        error_of(o).await,
        (
            "INVALID_QUEUE_NAME".into(),
            "Invalid amqpQueue \"bad name\": must match [A-Za-z0-9-]+".into()
        )
    );
    let o = CreateOptions {
        amqp_protocol: Given::string("amqp"),
        amqp_port: Given::number(70000.0),
        redis: client(),
        ..valid(&mesh, sink())
    };
    assert_eq!(
        error_of(o).await,
        invalid("amqpPort must be an integer from 1 to 65535, got 70000")
    );
    let o = CreateOptions {
        management: Given::new(
            Shape::Object,
            Err(PropagationError::InvalidOptions(
                "management.rotate_credential_secret must be a function".into(),
            )),
        ),
        redis: client(),
        ..valid(&mesh, sink())
    };
    assert_eq!(
        error_of(o).await,
        invalid("management.rotate_credential_secret must be a function")
    );
    assert!(calls.0.lock().unwrap().is_empty(), "{:?}", calls.0);

    // Valid: a client without a native URL is used as is (no probe).
    let o = CreateOptions {
        redis: Given::new(
            Shape::Object,
            Ok(RedisOption::Client {
                ops: calls.clone() as Arc<dyn RedisOps>,
                native_url: None,
            }),
        ),
        ..valid(&mesh, sink())
    };
    let created = create(o).await.unwrap();
    assert_eq!(created.state_mode, StateMode::Client);
    assert!(calls.0.lock().unwrap().is_empty(), "{:?}", calls.0);
    created.propagator.close().await;
}

#[tokio::test]
async fn the_core_hashes_with_the_stores_pepper() {
    let mesh = unique("create-hash");
    for pepper in [Some("pepper"), None] {
        let sink = Arc::new(Recording {
            pepper: pepper.map(str::to_owned),
            ..Default::default()
        });
        let management = MemoryManagement::with_directory(&[("peer-a", "secret-of-a")]);
        let o = CreateOptions {
            management: Given::new(
                Shape::Object,
                Ok(Arc::new(management) as Arc<dyn Management>),
            ),
            ..valid(&mesh, sink.clone())
        };
        let created = create(o).await.unwrap();
        assert_eq!(created.state_mode, StateMode::Memory);
        let p = created.propagator;
        p.ensure(EnsureInput {
            client_id: "c1".into(),
            secret: "s3cret".into(),
            targets: vec![],
            ..Default::default()
        })
        .await
        .unwrap();
        assert_eq!(
            sink.hashes.lock().unwrap().clone(),
            vec![("c1".to_owned(), hash_client_secret("s3cret", pepper))]
        );
        p.close().await;
    }
}
