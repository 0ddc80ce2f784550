//! Helpers shared by the integration tests: a scripted HTTP server on 127.0.0.1:0 that
//! records what it received, and a capture of tracing output.

#![allow(dead_code)]

use std::io::Write;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::body::{Body, Bytes};
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::Response;

/// One request as the server saw it.
#[derive(Clone, Debug)]
pub struct Seen {
    pub method: String,
    pub path: String,
    pub query: Option<String>,
    pub headers: HeaderMap,
    pub body: Vec<u8>,
}

/// What the server answers.
#[derive(Clone, Debug)]
pub struct Reply {
    pub delay: Duration,
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl Reply {
    pub fn ok(body: &str) -> Self {
        Reply {
            delay: Duration::ZERO,
            status: 200,
            headers: Vec::new(),
            body: body.to_string(),
        }
    }

    pub fn status(status: u16, body: &str) -> Self {
        Reply {
            status,
            ..Reply::ok(body)
        }
    }

    pub fn header(mut self, name: &str, value: &str) -> Self {
        self.headers.push((name.to_string(), value.to_string()));
        self
    }

    pub fn delayed(mut self, delay: Duration) -> Self {
        self.delay = delay;
        self
    }
}

pub struct Scripted {
    /// e.g. `http://127.0.0.1:PORT/api/v2`
    pub api_base: String,
    pub origin: String,
    pub seen: Arc<Mutex<Vec<Seen>>>,
}

impl Scripted {
    pub fn seen(&self) -> Vec<Seen> {
        self.seen.lock().unwrap().clone()
    }

    pub fn count(&self, method: &str) -> usize {
        self.seen().iter().filter(|s| s.method == method).count()
    }
}

/// Serves `script(n, request)` for the n-th request (0-based) on 127.0.0.1:0.
pub async fn scripted<F>(script: F) -> Scripted
where
    F: Fn(usize, &Seen) -> Reply + Send + Sync + 'static,
{
    let seen: Arc<Mutex<Vec<Seen>>> = Arc::default();
    let script = Arc::new(script);
    let log = seen.clone();
    let app = Router::new().fallback(
        move |method: Method, uri: Uri, headers: HeaderMap, body: Bytes| {
            let log = log.clone();
            let script = script.clone();
            async move {
                let request = Seen {
                    method: method.to_string(),
                    path: uri.path().to_string(),
                    query: uri.query().map(str::to_string),
                    headers,
                    body: body.to_vec(),
                };
                let n = {
                    let mut log = log.lock().unwrap();
                    log.push(request.clone());
                    log.len() - 1
                };
                let reply = script(n, &request);
                tokio::time::sleep(reply.delay).await;
                let mut response = Response::new(Body::from(reply.body));
                *response.status_mut() = StatusCode::from_u16(reply.status).unwrap();
                for (k, v) in reply.headers {
                    response
                        .headers_mut()
                        .insert::<axum::http::HeaderName>(k.parse().unwrap(), v.parse().unwrap());
                }
                response
            }
        },
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        axum::serve(listener, app).await.unwrap();
    });
    Scripted {
        api_base: format!("http://{addr}/api/v2"),
        origin: format!("http://{addr}"),
        seen,
    }
}

/// Collects everything tracing writes on the current thread while installed (use a
/// current-thread runtime, the `#[tokio::test]` default, so spawned tasks log into it).
///
/// One global subscriber (installed once, at TRACE) writes each line to the capture
/// installed on the writing thread, if any. A scoped (`set_default`) subscriber per test
/// raced with the other tests of the binary over tracing's cached callsite interest: a
/// callsite first seen where no subscriber listened could stay "never" and the capture
/// missed lines under load.
#[derive(Clone, Default)]
pub struct LogCapture(Arc<Mutex<Vec<u8>>>);

thread_local! {
    static CAPTURE: std::cell::RefCell<Option<Arc<Mutex<Vec<u8>>>>> =
        const { std::cell::RefCell::new(None) };
}

/// Writes into the current thread's capture; drops the line where none is installed.
struct ThreadCaptureWriter;

impl Write for ThreadCaptureWriter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        CAPTURE.with(|capture| {
            if let Some(sink) = capture.borrow().as_ref() {
                sink.lock().unwrap().extend_from_slice(buf);
            }
        });
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Ends a capture when dropped.
pub struct CaptureGuard;

impl Drop for CaptureGuard {
    fn drop(&mut self) {
        CAPTURE.with(|capture| capture.borrow_mut().take());
    }
}

impl LogCapture {
    /// Captures this thread's log lines (TRACE and up) until the guard drops.
    pub fn install(&self) -> CaptureGuard {
        static GLOBAL: std::sync::Once = std::sync::Once::new();
        GLOBAL.call_once(|| {
            let subscriber = tracing_subscriber::fmt()
                .with_max_level(tracing::Level::TRACE)
                .with_ansi(false)
                .with_writer(|| ThreadCaptureWriter)
                .finish();
            tracing::subscriber::set_global_default(subscriber)
                .expect("no other global subscriber in the gateway's tests");
        });
        CAPTURE.with(|capture| *capture.borrow_mut() = Some(self.0.clone()));
        CaptureGuard
    }

    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap()).into_owned()
    }
}
