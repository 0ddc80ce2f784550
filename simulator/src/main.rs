//! `orderdesk-sim [--port N]`: serve the sandbox simulator on 127.0.0.1 until Ctrl-C.

use std::net::Ipv4Addr;
use std::process::ExitCode;

use orderdesk_sim::{DEMO_API_KEY, DEMO_STORE_ID, SimConfig, Simulator};

const USAGE: &str = "usage: orderdesk-sim [--port N]   (N = 0 picks a free port; default 0)";

fn parse_port(args: &[String]) -> Result<u16, String> {
    let mut port = 0;
    let mut args = args.iter();
    while let Some(arg) = args.next() {
        let value = match arg.as_str() {
            "-h" | "--help" => return Err(USAGE.to_owned()),
            "--port" | "-p" => args.next().ok_or("--port needs a value")?.clone(),
            other => match other.strip_prefix("--port=") {
                Some(value) => value.to_owned(),
                None => return Err(format!("unexpected argument {other:?}\n{USAGE}")),
            },
        };
        port = value
            .parse()
            .map_err(|_| format!("--port: {value:?} is not a port number"))?;
    }
    Ok(port)
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let port = match parse_port(&args) {
        Ok(port) => port,
        Err(message) => {
            eprintln!("{message}");
            return ExitCode::from(2);
        }
    };
    let listener = match tokio::net::TcpListener::bind((Ipv4Addr::LOCALHOST, port)).await {
        Ok(listener) => listener,
        Err(error) => {
            eprintln!("orderdesk-sim: cannot bind 127.0.0.1:{port}: {error}");
            return ExitCode::FAILURE;
        }
    };
    let addr = match listener.local_addr() {
        Ok(addr) => addr,
        Err(error) => {
            eprintln!("orderdesk-sim: {error}");
            return ExitCode::FAILURE;
        }
    };
    println!("http://{addr}/api/v2");
    eprintln!("OrderDesk simulator (sandbox): store id {DEMO_STORE_ID}, API key {DEMO_API_KEY}");
    eprintln!("control surface: http://{addr}/_sim/requests; Ctrl-C to stop");

    let shutdown = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    match Simulator::new(SimConfig::sandbox())
        .serve(listener, shutdown)
        .await
    {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("orderdesk-sim: {error}");
            ExitCode::FAILURE
        }
    }
}
