//! `descent-playground`: serves the playground on 127.0.0.1.
//!
//! ```text
//! descent-playground [--port N] [--max-sessions N]
//! ```
//! Without `--port` it tries 8023, then lets the system choose a free port;
//! the address is printed either way.

use descent_playground::server::{reaper, router};
use descent_playground::session::Sessions;
use std::net::{Ipv4Addr, SocketAddr};
use std::process::ExitCode;
use std::sync::Arc;

/// The port tried first when none is given.
const DEFAULT_PORT: u16 = 8023;

const USAGE: &str = "usage: descent-playground [--port N] [--max-sessions N]
  --port N          listen on 127.0.0.1:N (default: 8023, or a free port if it is taken)
  --max-sessions N  browser tabs served at once, 1 ..= 64 (default 8)";

struct Args {
    port: Option<u16>,
    max_sessions: usize,
}

fn parse_args() -> Result<Args, String> {
    let mut args = Args {
        port: None,
        max_sessions: 8,
    };
    let mut it = std::env::args().skip(1);
    while let Some(a) = it.next() {
        let mut value = |name: &str| it.next().ok_or_else(|| format!("{name} needs a value"));
        match a.as_str() {
            "--port" => {
                let v = value("--port")?;
                args.port = Some(
                    v.parse()
                        .map_err(|_| format!("--port: `{v}` is not a port (0 ..= 65535)"))?,
                );
            }
            "--max-sessions" => {
                let v = value("--max-sessions")?;
                let n: usize = v
                    .parse()
                    .map_err(|_| format!("--max-sessions: `{v}` is not a number"))?;
                if !(1..=64).contains(&n) {
                    return Err(format!("--max-sessions: {n} is not in 1 ..= 64"));
                }
                args.max_sessions = n;
            }
            "-h" | "--help" => return Err(String::new()),
            other => return Err(format!("unknown argument `{other}`")),
        }
    }
    Ok(args)
}

fn main() -> ExitCode {
    let args = match parse_args() {
        Ok(a) => a,
        Err(e) if e.is_empty() => {
            println!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        Err(e) => {
            eprintln!("descent-playground: {e}\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("descent-playground: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(serve(args)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("descent-playground: {e}");
            ExitCode::FAILURE
        }
    }
}

async fn serve(args: Args) -> std::io::Result<()> {
    let listener = match args.port {
        Some(p) => tokio::net::TcpListener::bind((Ipv4Addr::LOCALHOST, p)).await?,
        None => match tokio::net::TcpListener::bind((Ipv4Addr::LOCALHOST, DEFAULT_PORT)).await {
            Ok(l) => l,
            Err(_) => tokio::net::TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).await?,
        },
    };
    let addr: SocketAddr = listener.local_addr()?;
    println!("descent playground: http://{addr}/");
    let sessions = Arc::new(Sessions::new(args.max_sessions));
    tokio::spawn(reaper(sessions.clone()));
    axum::serve(listener, router(sessions))
        .with_graceful_shutdown(async {
            let _ = tokio::signal::ctrl_c().await;
        })
        .await
}
