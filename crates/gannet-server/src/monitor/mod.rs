//! The HTTP monitoring listener (nats-server's `monitor.go` handlers): `/varz`,
//! `/connz`, `/subsz`, `/routez`, `/gatewayz`, `/leafz`, `/jsz`, `/accountz`,
//! `/accstatz`, `/healthz` and `/metrics` (Prometheus). Each endpoint's data comes
//! from a function in its own module that returns a plain struct, so the same data
//! can later be served on `$SYS` subjects. Bad query values answer 400 with the
//! reference's message; nothing a request sends can panic the server.
pub mod accountz;
pub mod cluster;
pub mod connz;
pub mod jsz;
pub mod metrics;
pub mod query;
pub mod subsz;
mod varz;

use std::collections::BTreeMap;
use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use serde::Serialize;
use tokio::net::TcpListener;

pub use varz::{varz as collect_varz, Varz};

use crate::server::Server;

/// Requests served per path, as `/varz` reports them.
#[derive(Debug, Default)]
pub struct HttpStats {
    counts: Mutex<BTreeMap<String, u64>>,
}

impl HttpStats {
    fn count(&self, path: &str) {
        let mut counts = self.counts.lock().unwrap_or_else(|e| e.into_inner());
        *counts.entry(path.to_string()).or_default() += 1;
    }

    pub fn snapshot(&self) -> BTreeMap<String, u64> {
        self.counts
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }
}

/// Binds the monitoring listener and serves it in one of the server's tasks;
/// each HTTP connection is one too. On shutdown a connection finishes the
/// request in flight, then closes.
pub async fn start(server: Arc<Server>, bind: &str) -> std::io::Result<SocketAddr> {
    let listener = TcpListener::bind(bind).await?;
    let addr = listener.local_addr()?;
    let accept_server = server.clone();
    server.spawn_background(async move {
        let server = accept_server;
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                continue;
            };
            let stop = server.shutdown_signal();
            let conn_server = server.clone();
            server.spawn(async move {
                let service = hyper::service::service_fn(move |req| {
                    let server = conn_server.clone();
                    async move { Ok::<_, Infallible>(route(&server, req)) }
                });
                let conn = hyper::server::conn::http1::Builder::new()
                    .serve_connection(TokioIo::new(stream), service);
                tokio::pin!(conn);
                tokio::select! {
                    _ = conn.as_mut() => {}
                    () = crate::server::until_shutdown(stop) => {
                        conn.as_mut().graceful_shutdown();
                        let _ = conn.await;
                    }
                }
            });
        }
    });
    Ok(addr)
}

fn route(server: &Server, req: Request<Incoming>) -> Response<Full<Bytes>> {
    let path = req.uri().path().trim_end_matches('/');
    let q = query::Query::parse(req.uri().query());
    let stats = server.http_stats();
    match path {
        "/varz" => {
            stats.count("/varz");
            json(&varz::varz(server))
        }
        "/connz" => match connz::ConnzOptions::from_query(&q) {
            Ok(opts) => {
                stats.count("/connz");
                json(&connz::connz(server, &opts))
            }
            Err(e) => bad_request(&e),
        },
        "/subsz" | "/subscriptionsz" => match subsz::SubszOptions::from_query(&q) {
            Ok(opts) => {
                stats.count("/subsz");
                json(&subsz::subsz(server, &opts))
            }
            Err(e) => bad_request(&e),
        },
        "/routez" => {
            stats.count("/routez");
            let subs = matches!(q.get("subs"), "1" | "true" | "detail");
            json(&cluster::routez(server, subs))
        }
        "/gatewayz" => match (q.bool("accs"), q.bool("subs")) {
            (Ok(accounts), Ok(_)) => {
                stats.count("/gatewayz");
                let opts = cluster::GatewayzOptions {
                    name: q.get("gw_name").to_string(),
                    accounts,
                    account_name: q.get("acc_name").to_string(),
                };
                json(&cluster::gatewayz(server, &opts))
            }
            (Err(e), _) | (_, Err(e)) => bad_request(&e),
        },
        "/leafz" => {
            stats.count("/leafz");
            let subs = matches!(q.get("subs"), "1" | "true" | "detail");
            json(&cluster::leafz(server, subs, None))
        }
        "/jsz" => {
            stats.count("/jsz");
            match jsz::JszOptions::from_query(&q) {
                Ok(opts) => json(&jsz::jsz(server, &opts)),
                Err(e) => bad_request(&e),
            }
        }
        "/accountz" => {
            stats.count("/accountz");
            match accountz::accountz(server, &q) {
                Ok(body) => json(&body),
                Err(e) => bad_request(&e),
            }
        }
        "/accstatz" => {
            stats.count("/accstatz");
            match accountz::accstatz(server, &q) {
                Ok(body) => json(&body),
                Err(e) => bad_request(&e),
            }
        }
        "/metrics" => {
            stats.count("/metrics");
            prometheus(metrics::metrics(server))
        }
        "/healthz" => {
            stats.count("/healthz");
            json(&serde_json::json!({"status": "ok"}))
        }
        "" => {
            stats.count("/");
            html_index()
        }
        _ => text(StatusCode::NOT_FOUND, "404 page not found\n"),
    }
}

fn bad_request(message: &str) -> Response<Full<Bytes>> {
    text(StatusCode::BAD_REQUEST, &format!("{message}\n"))
}

fn prometheus(body: String) -> Response<Full<Bytes>> {
    Response::builder()
        .status(StatusCode::OK)
        .header("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
        .body(Full::new(Bytes::from(body)))
        .unwrap_or_else(|_| Response::new(Full::new(Bytes::new())))
}

fn json<T: Serialize>(body: &T) -> Response<Full<Bytes>> {
    match serde_json::to_vec_pretty(body) {
        Ok(bytes) => Response::builder()
            .status(StatusCode::OK)
            .header("Content-Type", "application/json")
            .header("Access-Control-Allow-Origin", "*")
            .body(Full::new(Bytes::from(bytes)))
            .unwrap_or_else(|_| Response::new(Full::new(Bytes::new()))),
        Err(e) => text(StatusCode::INTERNAL_SERVER_ERROR, &e.to_string()),
    }
}

fn text(status: StatusCode, body: &str) -> Response<Full<Bytes>> {
    Response::builder()
        .status(status)
        .header("Content-Type", "text/plain; charset=utf-8")
        .body(Full::new(Bytes::from(body.to_string())))
        .unwrap_or_else(|_| Response::new(Full::new(Bytes::new())))
}

fn html_index() -> Response<Full<Bytes>> {
    let body = "<html><body><h1>Gannet</h1><ul>\
        <li><a href=\"varz\">General</a></li>\
        <li><a href=\"connz\">Connections</a></li>\
        <li><a href=\"routez\">Routes</a></li>\
        <li><a href=\"gatewayz\">Gateways</a></li>\
        <li><a href=\"leafz\">Leaf Nodes</a></li>\
        <li><a href=\"subsz\">Subscriptions</a></li>\
        <li><a href=\"accountz\">Accounts</a></li>\
        <li><a href=\"accstatz\">Account Stats</a></li>\
        <li><a href=\"jsz\">JetStream</a></li>\
        <li><a href=\"healthz\">Health</a></li>\
        <li><a href=\"metrics\">Prometheus metrics</a></li>\
        </ul></body></html>\n";
    Response::builder()
        .status(StatusCode::OK)
        .header("Content-Type", "text/html; charset=utf-8")
        .body(Full::new(Bytes::from(body)))
        .unwrap_or_else(|_| Response::new(Full::new(Bytes::new())))
}
