//! "PostgreSQL stopped" for `bench faults --fault pg-stopped`, without stopping the shared server: the
//! engine's database URL names this TCP proxy, which forwards bytes both ways unchanged. Stopped, it does to
//! the engine what a stopped server does: every open connection is reset and the port is closed, so a new
//! connection is refused; started again, it listens on the same port and forwards once more.
//!
//! An actor: [`PgProxy`] is the handle (a bounded command channel, a oneshot reply per command) and one task
//! owns the listener and the connections, each forwarded by a task of its own.

use std::io;
use std::net::SocketAddr;

use tokio::net::{TcpListener, TcpSocket, TcpStream};
use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use super::BenchError;

/// The handle of a running proxy. Dropping it stops the proxy and resets its connections.
#[derive(Debug)]
pub(super) struct PgProxy {
    /// Where the engine connects (127.0.0.1, a port chosen by the OS at start and kept across restarts).
    addr: SocketAddr,
    commands: mpsc::Sender<Command>,
    /// The proxy's own task, aborted on drop (which drops the listener and cancels the connections).
    task: JoinHandle<()>,
}

#[derive(Debug)]
enum Command {
    /// Reset every connection and close the port; answered once both are done.
    Stop(oneshot::Sender<()>),
    /// Listen again on the same port.
    Start(oneshot::Sender<io::Result<()>>),
}

impl PgProxy {
    /// Listens on an ephemeral loopback port and forwards every connection to `upstream`.
    pub(super) async fn start(upstream: SocketAddr) -> io::Result<PgProxy> {
        let listener = listen(SocketAddr::from(([127, 0, 0, 1], 0)))?;
        let addr = listener.local_addr()?;
        let (commands, inbox) = mpsc::channel(4);
        let task = tokio::spawn(run(listener, addr, upstream, inbox));
        Ok(PgProxy {
            addr,
            commands,
            task,
        })
    }

    /// The address the engine is to connect to.
    pub(super) fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// "Stops the server": returns once every open connection has been reset and new ones are refused.
    pub(super) async fn stop(&self) -> Result<(), BenchError> {
        let (done, answer) = oneshot::channel();
        self.send(Command::Stop(done)).await?;
        answer.await.map_err(|_| gone())
    }

    /// "Starts the server" again: returns once the port accepts connections.
    pub(super) async fn resume(&self) -> Result<(), BenchError> {
        let (done, answer) = oneshot::channel();
        self.send(Command::Start(done)).await?;
        answer.await.map_err(|_| gone())?.map_err(|e| {
            BenchError::Fault(format!(
                "the PostgreSQL proxy cannot listen on {} again: {e}",
                self.addr
            ))
        })
    }

    async fn send(&self, command: Command) -> Result<(), BenchError> {
        self.commands.send(command).await.map_err(|_| gone())
    }
}

impl Drop for PgProxy {
    fn drop(&mut self) {
        self.task.abort();
    }
}

fn gone() -> BenchError {
    BenchError::Fault("the PostgreSQL proxy's task has ended".to_owned())
}

/// A listener on `addr` that may be bound again right after it was closed (`SO_REUSEADDR`).
fn listen(addr: SocketAddr) -> io::Result<TcpListener> {
    let socket = TcpSocket::new_v4()?;
    socket.set_reuseaddr(true)?;
    socket.bind(addr)?;
    socket.listen(1024)
}

/// The proxy's loop over its two kinds of event: a command, a connection accepted.
async fn run(
    listener: TcpListener,
    addr: SocketAddr,
    upstream: SocketAddr,
    mut commands: mpsc::Receiver<Command>,
) {
    let mut listener = Some(listener);
    // Cancelled when the proxy ends by any way (its handle dropped, or the task aborted): every
    // connection's token descends from it.
    let alive = CancellationToken::new();
    let _reset_on_exit = alive.clone().drop_guard();
    // Cancelled to reset the connections of this "run" of the server.
    let mut running = alive.child_token();
    let connections = TaskTracker::new();
    loop {
        // Both branches are cancel-safe: `recv` and `accept` lose nothing when the other wins.
        tokio::select! {
            command = commands.recv() => match command {
                None => break,
                Some(Command::Stop(done)) => {
                    // The port closed first, so nothing new slips in while the others are reset.
                    listener = None;
                    running.cancel();
                    connections.close();
                    connections.wait().await;
                    connections.reopen();
                    running = alive.child_token();
                    let _ = done.send(());
                }
                Some(Command::Start(done)) => {
                    let result = match listener {
                        Some(_) => Ok(()),
                        None => listen(addr).map(|l| listener = Some(l)),
                    };
                    let _ = done.send(result);
                }
            },
            accepted = accept(listener.as_ref()) => {
                // An accept error (out of descriptors) is the client's refusal; the loop goes on.
                if let Ok((client, _)) = accepted {
                    connections.spawn(forward(client, upstream, running.child_token()));
                }
            }
        }
    }
}

/// The next connection, or never while the port is closed.
async fn accept(listener: Option<&TcpListener>) -> io::Result<(TcpStream, SocketAddr)> {
    match listener {
        Some(listener) => listener.accept().await,
        None => std::future::pending().await,
    }
}

/// Forwards one connection until either side closes, or resets it when `stop` is cancelled.
async fn forward(mut client: TcpStream, upstream: SocketAddr, stop: CancellationToken) {
    let connected = tokio::select! {
        connected = TcpStream::connect(upstream) => connected,
        () = stop.cancelled() => Err(io::ErrorKind::ConnectionAborted.into()),
    };
    let Ok(mut server) = connected else {
        // The client sees what it would have seen of a server that is not there.
        let _ = client.set_zero_linger();
        return;
    };
    tokio::select! {
        _ = tokio::io::copy_bidirectional(&mut client, &mut server) => {}
        () = stop.cancelled() => {
            // Closed with SO_LINGER 0: an RST to each side, as when the server's process is gone.
            let _ = client.set_zero_linger();
            let _ = server.set_zero_linger();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    /// A server that echoes what it reads; its address.
    async fn echo_server() -> SocketAddr {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move {
            while let Ok((mut socket, _)) = listener.accept().await {
                tokio::spawn(async move {
                    let (mut r, mut w) = socket.split();
                    let _ = tokio::io::copy(&mut r, &mut w).await;
                });
            }
        });
        addr
    }

    /// Writes `bytes` through `stream` and reads as many back.
    async fn round_trip(stream: &mut TcpStream, bytes: &[u8]) -> Vec<u8> {
        stream.write_all(bytes).await.unwrap();
        let mut back = vec![0; bytes.len()];
        stream.read_exact(&mut back).await.unwrap();
        back
    }

    #[tokio::test]
    async fn bytes_pass_both_ways_unchanged() {
        let proxy = PgProxy::start(echo_server().await).await.unwrap();
        let mut a = TcpStream::connect(proxy.addr()).await.unwrap();
        let mut b = TcpStream::connect(proxy.addr()).await.unwrap();
        let big: Vec<u8> = (0..200_000u32).map(|i| (i % 251) as u8).collect();
        assert_eq!(round_trip(&mut a, &big).await, big);
        assert_eq!(
            round_trip(&mut b, b"\0SELECT 1;\xff").await,
            b"\0SELECT 1;\xff"
        );
        // A client closing its side is passed on, and the server's close comes back.
        a.shutdown().await.unwrap();
        let mut rest = Vec::new();
        a.read_to_end(&mut rest).await.unwrap();
        assert!(rest.is_empty());
    }

    #[tokio::test]
    async fn stopped_it_resets_open_connections_and_refuses_new_ones_then_accepts_again() {
        let proxy = PgProxy::start(echo_server().await).await.unwrap();
        let mut open = TcpStream::connect(proxy.addr()).await.unwrap();
        assert_eq!(round_trip(&mut open, b"before").await, b"before");

        proxy.stop().await.unwrap();
        let mut buf = [0u8; 16];
        let read = open.read(&mut buf).await;
        assert!(
            matches!(&read, Err(e) if e.kind() == io::ErrorKind::ConnectionReset),
            "{read:?}"
        );
        for _ in 0..3 {
            let refused = TcpStream::connect(proxy.addr()).await;
            assert!(
                matches!(&refused, Err(e) if e.kind() == io::ErrorKind::ConnectionRefused),
                "{refused:?}"
            );
        }
        // Stopping twice is stopping once.
        proxy.stop().await.unwrap();

        proxy.resume().await.unwrap();
        proxy.resume().await.unwrap();
        let mut again = TcpStream::connect(proxy.addr()).await.unwrap();
        assert_eq!(round_trip(&mut again, b"after").await, b"after");
    }

    #[tokio::test]
    async fn an_upstream_that_is_not_there_resets_the_client() {
        // A port nothing listens on: bind one, note it, close it.
        let vacant = TcpListener::bind("127.0.0.1:0")
            .await
            .unwrap()
            .local_addr()
            .unwrap();
        let proxy = PgProxy::start(vacant).await.unwrap();
        let mut client = TcpStream::connect(proxy.addr()).await.unwrap();
        let mut buf = [0u8; 4];
        let read = client.read(&mut buf).await;
        assert!(
            matches!(&read, Err(e) if e.kind() == io::ErrorKind::ConnectionReset),
            "{read:?}"
        );
    }

    #[tokio::test]
    async fn dropping_the_handle_resets_its_connections() {
        let proxy = PgProxy::start(echo_server().await).await.unwrap();
        let mut open = TcpStream::connect(proxy.addr()).await.unwrap();
        assert_eq!(round_trip(&mut open, b"x").await, b"x");
        drop(proxy);
        let mut buf = [0u8; 4];
        let read = tokio::time::timeout(std::time::Duration::from_secs(5), open.read(&mut buf))
            .await
            .expect("the connection ends when the proxy is dropped");
        assert!(!matches!(read, Ok(n) if n > 0), "{read:?}");
    }
}
