//! The server over real TCP: each endpoint's validation, separate sessions,
//! a disconnect freeing its run, and the streamed loss being the Trainer's.

use descent_data::Dataset;
use descent_nn::{Builder, Linear, LinearConfig, ModelState, Relu, Sequential};
use descent_optim::AdamConfig;
use descent_playground::config::DataConfig;
use descent_playground::data::generate;
use descent_playground::server::router;
use descent_playground::session::Sessions;
use descent_train::seed::{self, Purpose};
use descent_train::{Data, Loss, Progress, TrainConfig, Trainer};
use serde_json::{Value, json};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// A server with room for `max` sessions, on its own runtime and port.
fn serve(max: usize) -> SocketAddr {
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async move {
            let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
            tx.send(l.local_addr().unwrap()).unwrap();
            axum::serve(l, router(Arc::new(Sessions::new(max))))
                .await
                .unwrap();
        });
    });
    rx.recv().unwrap()
}

/// One request; the status and the body.
fn request(addr: SocketAddr, method: &str, path: &str, body: &str) -> (u16, String) {
    let mut s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    write!(
        s,
        "{method} {path} HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\
         Content-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    let mut out = String::new();
    s.read_to_string(&mut out).unwrap();
    let status = out[9..12].parse().unwrap();
    let body = out.split_once("\r\n\r\n").map_or("", |b| b.1).to_owned();
    (status, body)
}

fn json_of(body: &str) -> Value {
    serde_json::from_str(body).unwrap_or_else(|e| panic!("{e}: {body}"))
}

fn create(addr: SocketAddr) -> String {
    let (status, body) = request(addr, "POST", "/api/sessions", "");
    assert_eq!(status, 201, "{body}");
    json_of(&body)["id"].as_str().unwrap().to_owned()
}

fn configure(addr: SocketAddr, id: &str, config: &Value) -> Value {
    let (status, body) = request(
        addr,
        "PUT",
        &format!("/api/sessions/{id}/config"),
        &config.to_string(),
    );
    assert_eq!(status, 200, "{body}");
    json_of(&body)
}

fn control(addr: SocketAddr, id: &str, action: &str) {
    let body = json!({ "action": action }).to_string();
    let (status, text) = request(addr, "POST", &format!("/api/sessions/{id}/control"), &body);
    assert_eq!(status, 204, "{text}");
}

fn status(addr: SocketAddr) -> Value {
    json_of(&request(addr, "GET", "/api/status", "").1)
}

/// A session's event stream, read as snapshots.
struct Events(BufReader<TcpStream>);

impl Events {
    fn open(addr: SocketAddr, id: &str) -> Self {
        let mut s = TcpStream::connect(addr).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
        write!(
            s,
            "GET /api/sessions/{id}/events HTTP/1.1\r\nHost: test\r\nAccept: text/event-stream\r\n\r\n"
        )
        .unwrap();
        let mut r = BufReader::new(s);
        let mut line = String::new();
        r.read_line(&mut line).unwrap();
        assert!(line.starts_with("HTTP/1.1 200"), "{line}");
        Events(r)
    }

    /// The next snapshot (each event is one chunk, so a data line is whole).
    fn next(&mut self) -> Value {
        loop {
            let mut line = String::new();
            assert!(self.0.read_line(&mut line).unwrap() > 0, "stream ended");
            if let Some(data) = line.strip_prefix("data: ") {
                return json_of(data.trim_end());
            }
        }
    }

    /// Snapshots until one satisfies `f`.
    fn until(&mut self, f: impl Fn(&Value) -> bool) -> Value {
        loop {
            let s = self.next();
            if f(&s) {
                return s;
            }
        }
    }
}

fn error_of(status_body: (u16, String)) -> (u16, String, Value) {
    let (status, body) = status_body;
    let j = json_of(&body);
    (
        status,
        j["error"].as_str().unwrap_or("").to_owned(),
        j["field"].clone(),
    )
}

#[test]
fn every_endpoint_rejects_bad_input_with_a_typed_message() {
    let addr = serve(2);
    let id = create(addr);
    let put = |body: &str| {
        error_of(request(
            addr,
            "PUT",
            &format!("/api/sessions/{id}/config"),
            body,
        ))
    };
    let cases = [
        (
            r#"{"run": {"optim": {"lr": -0.5}}}"#,
            "run.optim.lr",
            "must be in (0, 10]",
        ),
        (
            r#"{"run": {"net": {"hidden": []}}}"#,
            "run.net.hidden",
            "no hidden layer",
        ),
        (
            r#"{"run": {"net": {"hidden": [8, 100000]}}}"#,
            "run.net.hidden[1]",
            "1 ..= 64",
        ),
        (
            r#"{"data": {"n_points": 100000000}}"#,
            "data.n_points",
            "20 ..= 2000",
        ),
        (
            r#"{"run": {"train": {"batch_size": 0}}}"#,
            "run.train.batch_size",
            "1 ..= 200",
        ),
        (
            r#"{"compare": {"net": {"dropout": 1.5}}}"#,
            "compare.net.dropout",
            "[0, 0.9]",
        ),
        (r#"{"epochs_per_sec": -1}"#, "epochs_per_sec", "[0, 1000]"),
    ];
    for (body, field, words) in cases {
        let (status, msg, f) = put(body);
        assert_eq!(status, 400, "{body}: {msg}");
        assert_eq!(f, json!(field), "{body}: {msg}");
        assert!(msg.contains(words), "{body}: {msg}");
    }
    // Not JSON, an unknown field, a wrong type: 400 naming what is wrong.
    let (status, msg, _) = put("{not json");
    assert_eq!(status, 400, "{msg}");
    let (status, msg, _) = put(r#"{"run": {"optim": {"learning_rate": 0.1}}}"#);
    assert!(status == 400 && msg.contains("learning_rate"), "{msg}");
    let (status, msg, _) = put(r#"{"data": {"kind": "mnist"}}"#);
    assert!(status == 400 && msg.contains("mnist"), "{msg}");
    // A body above the limit.
    let big = format!(r#"{{"run": {{"label": "{}"}}}}"#, "x".repeat(100_000));
    let (status, msg, _) = put(&big);
    assert!(status == 413 && msg.contains("bytes"), "{msg}");

    // Control: before any configuration, and an unknown action.
    let post = |body: &str| {
        error_of(request(
            addr,
            "POST",
            &format!("/api/sessions/{id}/control"),
            body,
        ))
    };
    let (status, msg, _) = post(r#"{"action": "start"}"#);
    assert!(status == 400 && msg.contains("no configuration"), "{msg}");
    let (status, msg, _) = post(r#"{"action": "jump"}"#);
    assert!(status == 400 && msg.contains("jump"), "{msg}");

    // Unknown sessions: 404 everywhere.
    for (method, path, body) in [
        ("PUT", "/api/sessions/nope/config", "{}"),
        (
            "POST",
            "/api/sessions/nope/control",
            r#"{"action": "start"}"#,
        ),
        ("GET", "/api/sessions/nope/events", ""),
        ("DELETE", "/api/sessions/nope", ""),
    ] {
        let (status, msg, _) = error_of(request(addr, method, path, body));
        assert!(
            status == 404 && msg.contains("no session"),
            "{method} {path}: {msg}"
        );
    }

    // One event stream per session.
    let _events = Events::open(addr, &id);
    let (status, msg, _) = error_of(request(
        addr,
        "GET",
        &format!("/api/sessions/{id}/events"),
        "",
    ));
    assert!(status == 409 && msg.contains("already"), "{msg}");

    // The session limit.
    let _second = create(addr);
    let (status, msg, _) = error_of(request(addr, "POST", "/api/sessions", ""));
    assert!(status == 503 && msg.contains("limit"), "{msg}");

    // The page and its assets are served.
    for path in ["/", "/app.js", "/style.css"] {
        let (status, body) = request(addr, "GET", path, "");
        assert!(status == 200 && body.len() > 500, "{path}");
    }
}

#[test]
fn two_sessions_keep_separate_state() {
    let addr = serve(4);
    let (a, b) = (create(addr), create(addr));
    let mut ea = Events::open(addr, &a);
    let mut eb = Events::open(addr, &b);
    let pa = configure(addr, &a, &json!({"seed": 1, "data": {"kind": "moons"}}));
    let pb = configure(
        addr,
        &b,
        &json!({"seed": 2, "data": {"kind": "xor", "n_points": 100},
                "run": {"optim": {"kind": "adam", "lr": 0.01}}}),
    );
    assert_ne!(pa["points"], pb["points"]);
    assert_eq!(pb["n_train"], 50);
    control(addr, &a, "start");
    let sa = ea.until(|s| s["runs"][0]["epoch"].as_u64().unwrap_or(0) >= 20);
    control(addr, &a, "pause");
    // B was never started: still at epoch 0, paused, with its own losses.
    let sb = eb.until(|s| s["phase"] == "paused");
    assert_eq!(sb["runs"][0]["epoch"], 0);
    assert_ne!(sa["runs"][0]["test_loss"], sb["runs"][0]["test_loss"]);
    // Stepping B moves B by one epoch and leaves A where it was.
    control(addr, &b, "step");
    let sb = eb.until(|s| s["runs"][0]["epoch"] == 1);
    assert_eq!(sb["phase"], "paused");
    let sa2 = ea.until(|s| s["phase"] == "paused");
    let a_epoch = sa2["runs"][0]["epoch"].as_u64().unwrap();
    control(addr, &b, "step");
    eb.until(|s| s["runs"][0]["epoch"] == 2);
    control(addr, &a, "step");
    let sa3 = ea.until(|s| s["runs"][0]["epoch"].as_u64() == Some(a_epoch + 1));
    assert_eq!(sa3["phase"], "paused");
}

#[test]
fn a_client_that_disconnects_frees_its_run() {
    let addr = serve(4);
    let id = create(addr);
    let mut events = Events::open(addr, &id);
    configure(addr, &id, &json!({"run": {"train": {"max_epochs": 20000}}}));
    control(addr, &id, "start");
    events.until(|s| s["phase"] == "running" && s["runs"][0]["epoch"].as_u64() > Some(5));
    let st = status(addr);
    assert_eq!(
        (st["sessions"].as_u64(), st["workers"].as_u64()),
        (Some(1), Some(1))
    );
    drop(events);
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let st = status(addr);
        if st["sessions"] == 0 && st["workers"] == 0 {
            break;
        }
        assert!(Instant::now() < deadline, "still alive: {st}");
        std::thread::sleep(Duration::from_millis(50));
    }
    let (status, _) = request(
        addr,
        "POST",
        &format!("/api/sessions/{id}/control"),
        r#"{"action":"start"}"#,
    );
    assert_eq!(status, 404);
    // Deleting a session ends its thread too.
    let id = create(addr);
    assert_eq!(
        request(addr, "DELETE", &format!("/api/sessions/{id}"), "").0,
        204
    );
    let deadline = Instant::now() + Duration::from_secs(20);
    while status_workers(addr) != 0 {
        assert!(Instant::now() < deadline);
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn status_workers(addr: SocketAddr) -> u64 {
    status(addr)["workers"].as_u64().unwrap()
}

#[test]
fn the_streamed_loss_is_the_trainers() {
    let seed = 3;
    let addr = serve(1);
    let id = create(addr);
    let mut events = Events::open(addr, &id);
    configure(
        addr,
        &id,
        &json!({
            "seed": seed,
            "data": {"kind": "moons", "n_points": 300, "noise": 0.2},
            "run": {
                "net": {"hidden": [8, 8], "activation": "relu"},
                "optim": {"kind": "adam", "lr": 0.01},
                "train": {"batch_size": 16}
            }
        }),
    );
    for _ in 0..3 {
        control(addr, &id, "step");
    }
    let streamed = events.until(|s| s["runs"][0]["epoch"] == 3);
    let run = &streamed["runs"][0];

    // The same run written directly against descent's crates.
    let data = generate(
        &DataConfig {
            n_points: 300,
            noise: 0.2,
            ..DataConfig::default()
        },
        seed,
    )
    .unwrap();
    let mut state = ModelState::<f32>::new();
    let mut model = Sequential::new();
    {
        let mut rng = seed::rng(seed, Purpose::Init);
        let mut b = Builder::new(&mut state, &mut rng);
        model
            .add(&mut b, |b| Linear::new(b, LinearConfig::new(2, 8)))
            .unwrap()
            .push(Relu)
            .add(&mut b, |b| Linear::new(b, LinearConfig::new(8, 8)))
            .unwrap()
            .push(Relu)
            .add(&mut b, |b| Linear::new(b, LinearConfig::new(8, 2)))
            .unwrap();
    }
    let opt = AdamConfig {
        lr: 0.01,
        ..AdamConfig::default()
    }
    .build(&state.params)
    .unwrap();
    let config = TrainConfig {
        epochs: 3,
        batch_size: 16,
        seed,
        top_k: 0,
        progress: Progress::Quiet,
        ..TrainConfig::default()
    };
    let mut trainer = Trainer::new(model, state, opt, Loss::cross_entropy(), config).unwrap();
    let history = trainer
        .fit(Data::train(&data.train).with_validation(&data.test))
        .unwrap();
    let last = history.epochs.last().unwrap();
    assert_eq!(data.train.len(), 150);
    assert_eq!(run["train_loss"].as_f64().unwrap(), last.train.loss);
    assert_eq!(
        run["test_loss"].as_f64().unwrap(),
        last.validation.as_ref().unwrap().loss
    );
    assert_eq!(run["lr"].as_f64().unwrap(), last.lr);
    assert_eq!(run["step"].as_u64().unwrap(), last.step);
    let curve = &run["curve"];
    assert_eq!(curve["epoch"], json!([0, 1, 2, 3]));
    for (i, e) in history.epochs.iter().enumerate() {
        assert_eq!(curve["train_loss"][i + 1].as_f64().unwrap(), e.train.loss);
    }
}
