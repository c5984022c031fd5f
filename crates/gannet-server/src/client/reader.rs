//! The read half of a client connection, and reading from it without
//! holding a buffer while the client is quiet. A plain TCP connection can be
//! waited on until it has data, and only then given a buffer to read into:
//! tens of thousands of idle clients then hold no read buffer at all. A TLS
//! connection cannot be asked (its bytes must go through the TLS layer
//! first), so it waits with its buffer as before.
use std::future::Future;

use bytes::BytesMut;
use tokio::io::{AsyncRead, AsyncReadExt};

/// A client connection's read half.
pub trait ClientReader: AsyncRead + Unpin + Send + 'static {
    /// Whether [`wait_readable`](Self::wait_readable) really waits: only
    /// then is an emptied buffer worth giving back between reads.
    const WAITS_FOR_DATA: bool;

    /// Waits until a read would find data (or the connection's end), when
    /// this kind of reader can tell; returns at once when it cannot.
    fn wait_readable(&self) -> impl Future<Output = ()> + Send;
}

impl ClientReader for tokio::net::tcp::OwnedReadHalf {
    const WAITS_FOR_DATA: bool = true;

    async fn wait_readable(&self) {
        // An error shows again in the read that follows.
        let _ = self.readable().await;
    }
}

impl<T: AsyncRead + Send + 'static> ClientReader for tokio::io::ReadHalf<T> {
    const WAITS_FOR_DATA: bool = false;

    fn wait_readable(&self) -> impl Future<Output = ()> + Send {
        std::future::ready(())
    }
}

/// Reads into `buf`, giving it room for `read_size` bytes first. An empty
/// buffer is given its room only once there is something to read.
pub(super) async fn read_some<R: ClientReader>(
    reader: &mut R,
    buf: &mut BytesMut,
    read_size: usize,
) -> std::io::Result<usize> {
    if buf.is_empty() {
        reader.wait_readable().await;
    }
    if buf.capacity() - buf.len() < read_size / 2 {
        buf.reserve(read_size);
    }
    reader.read_buf(buf).await
}
