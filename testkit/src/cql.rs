//! kassandra (an in-memory CQL v4 emulator) served over TCP on a loopback port: the CQL
//! server of the store tests and of the load harness's chaos runs, where several `pitboss
//! run` processes share one store. Stopping it closes the port and cuts every connection,
//! as an outage would; starting it again serves the same data on the same port.
//!
//! kassandra fakes or breaks several CQL features (`../shared/infra.md`): pitboss keeps to
//! the subset it runs honestly; the real-ScyllaDB suite stays behind `SCYLLA_URI`.

use std::net::SocketAddr;
use std::panic::AssertUnwindSafe;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use futures::{SinkExt, StreamExt};
use kassandra::frame::request::Request;
use kassandra::frame::response::error::Error as CqlError;
use kassandra::frame::response::Response;
use kassandra::frame::{request_stream, response_sink};
use kassandra::KassandraSession;
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;

/// kassandra served on 127.0.0.1: the state lives in this process, so the server can be
/// stopped (every connection cut, the port closed) and started again with its data.
pub struct CqlServer {
    pub addr: SocketAddr,
    session: Arc<Mutex<KassandraSession>>,
    accept: Option<JoinHandle<()>>,
    conns: Arc<Mutex<Vec<JoinHandle<()>>>>,
}

impl CqlServer {
    pub async fn start() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("addr");
        let mut me = Self {
            addr,
            session: Arc::new(Mutex::new(KassandraSession::new())),
            accept: None,
            conns: Arc::default(),
        };
        me.serve(listener);
        me
    }

    fn serve(&mut self, listener: TcpListener) {
        let (session, conns) = (self.session.clone(), self.conns.clone());
        self.accept = Some(tokio::spawn(async move {
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    continue;
                };
                let t = tokio::spawn(client(session.clone(), stream));
                conns.lock().unwrap().push(t);
            }
        }));
    }

    /// Closes the port and cuts every connection (the data stays).
    pub fn stop(&mut self) {
        if let Some(a) = self.accept.take() {
            a.abort();
        }
        for c in self.conns.lock().unwrap().drain(..) {
            c.abort();
        }
    }

    /// Serves again on the same port.
    pub async fn restart(&mut self) {
        self.stop();
        let deadline = Instant::now() + Duration::from_secs(10);
        let listener = loop {
            match TcpListener::bind(self.addr).await {
                Ok(l) => break l,
                Err(e) if Instant::now() < deadline => {
                    let _ = e;
                    tokio::time::sleep(Duration::from_millis(20)).await;
                }
                Err(e) => panic!("cannot bind {} again: {e}", self.addr),
            }
        };
        self.serve(listener);
    }
}

impl Drop for CqlServer {
    fn drop(&mut self) {
        self.stop();
    }
}

async fn client(session: Arc<Mutex<KassandraSession>>, mut stream: TcpStream) {
    let (mut read, mut write) = stream.split();
    let mut requests = request_stream(&mut read);
    let mut sink = response_sink(&mut write);
    while let Some(frame) = requests.next().await {
        let Ok((frame, opcode, data)) = frame else {
            break;
        };
        let response = if frame.version.is_unsupported() {
            Response::unsupported_version()
        } else {
            match Request::deserialize(opcode, &data, frame.flags) {
                Ok(req) => handle(&session, req),
                Err(e) => Response::Error(e),
            }
        };
        if sink.send((response, frame.stream)).await.is_err() {
            break;
        }
    }
}

fn handle(session: &Mutex<KassandraSession>, req: Request<'_>) -> Response {
    // kassandra panics on some statements; answer with an error instead of dying.
    let run = |f: &mut dyn FnMut(&mut KassandraSession) -> Response| -> Response {
        let mut s = session.lock().unwrap_or_else(|p| p.into_inner());
        std::panic::catch_unwind(AssertUnwindSafe(|| f(&mut s))).unwrap_or_else(|_| {
            Response::Error(CqlError::new(
                kassandra::error::DbError::ServerError,
                "kassandra panicked",
            ))
        })
    };
    let result = |r: Result<_, CqlError>| match r {
        Ok(r) => Response::Result(r),
        Err(e) => Response::Error(e),
    };
    match req {
        Request::StartUp(_) | Request::Register { .. } => Response::Ready,
        Request::Options => Response::options(),
        Request::Query(q) => {
            let mut q = Some(q);
            run(&mut |s| result(s.process(q.take().expect("once"))))
        }
        Request::Prepare(q) => {
            let mut q = Some(q);
            run(&mut |s| result(s.prepare(q.take().expect("once"))))
        }
        Request::Execute(e) => {
            let mut e = Some(e);
            run(&mut |s| result(s.execute(e.take().expect("once"))))
        }
        Request::Batch(b) => {
            let mut b = Some(b);
            run(&mut |s| result(s.process_batch(b.take().expect("once"))))
        }
        Request::AuthResponse => Response::Error(CqlError::new(
            kassandra::error::DbError::ProtocolError,
            "authentication is not supported",
        )),
    }
}
