//! Reading a file on a second core while the first applies it (issue 20).
//!
//! An import decrypts, hashes, inflates and parses its file and checks every batch's
//! signature; the store then applies the ops. The two halves share nothing but the ops, so
//! the reading runs on a thread of its own a few thousand ops ahead: the merge takes the time
//! of the apply alone, not of both. What the reader holds stays bounded ([`CHUNK`] ops in each
//! of at most [`CHUNKS_AHEAD`] chunks waiting), so memory does not grow with the file, and a
//! machine with one core reads on the applying thread as before.
//!
//! Order is kept, and so is every outcome: the ops and errors the apply sees are exactly the
//! ones the reader yields, in its order. When the apply stops early (an error of its own), the
//! reader is stopped at its next chunk and joined before this returns, so nothing outlives
//! the import.

use std::sync::mpsc;

/// Ops per chunk handed from the reader to the apply: large enough that a hand-over costs
/// nothing next to the ops, small enough to stay a few hundred kilobytes.
const CHUNK: usize = 2048;
/// Chunks the reader may be ahead of the apply.
const CHUNKS_AHEAD: usize = 4;

/// Runs `consume` over the items of `source`, with `source` read on a thread of its own when
/// the machine has a second core. Returns what `consume` returns.
pub(crate) fn read_ahead<T, R>(
    source: impl Iterator<Item = T> + Send,
    consume: impl FnOnce(&mut dyn Iterator<Item = T>) -> R,
) -> R
where
    T: Send,
{
    let cores = std::thread::available_parallelism().map_or(1, std::num::NonZero::get);
    // `BANGFU_READ_AHEAD=0` reads on the applying thread: for measuring what the second
    // core brings (`bangfu bench`), not a setting users need.
    let off = std::env::var_os("BANGFU_READ_AHEAD").is_some_and(|v| v == "0");
    if cores < 2 || off {
        let mut source = source;
        return consume(&mut source);
    }
    read_ahead_on_thread(source, consume)
}

fn read_ahead_on_thread<T, R>(
    source: impl Iterator<Item = T> + Send,
    consume: impl FnOnce(&mut dyn Iterator<Item = T>) -> R,
) -> R
where
    T: Send,
{
    // The source waits here until the reader takes it, so that when no thread can be
    // started the apply reads it on this one instead.
    let slot = std::sync::Mutex::new(Some(source));
    let take = || {
        slot.lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .take()
    };
    std::thread::scope(|scope| {
        let (send, receive) = mpsc::sync_channel::<Vec<T>>(CHUNKS_AHEAD);
        let reader = std::thread::Builder::new()
            .name("bangfu-read-ahead".into())
            .spawn_scoped(scope, move || {
                let Some(source) = take() else { return };
                let mut chunk = Vec::with_capacity(CHUNK);
                for item in source {
                    chunk.push(item);
                    if chunk.len() == CHUNK {
                        let full = std::mem::replace(&mut chunk, Vec::with_capacity(CHUNK));
                        if send.send(full).is_err() {
                            // The apply stopped: nothing more is wanted.
                            return;
                        }
                    }
                }
                if !chunk.is_empty() {
                    let _ = send.send(chunk);
                }
            });
        match reader {
            Ok(_) => {
                let mut items = receive.into_iter().flatten();
                // `items` (the receiving end) is dropped before the scope joins the reader,
                // so a reader blocked on a full channel wakes up and ends.
                consume(&mut items)
            }
            Err(_) => match take() {
                Some(mut source) => consume(&mut source),
                None => unreachable!("the reader never started, so the source is still here"),
            },
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every item arrives once, in order, across many chunks and a partial last one.
    #[test]
    fn the_apply_sees_every_item_in_the_order_read() {
        let n = CHUNK * 7 + 13;
        let seen: Vec<usize> = read_ahead_on_thread(0..n, |items| items.collect());
        assert_eq!(seen, (0..n).collect::<Vec<_>>());
        let none: Vec<usize> = read_ahead_on_thread(0..0, |items| items.collect());
        assert!(none.is_empty());
    }

    /// An apply that stops early stops the reader: it is joined, not left reading the rest
    /// of a file nobody wants, and what it read past the stop is bounded.
    #[test]
    fn an_apply_that_stops_early_stops_the_reader() {
        use std::sync::atomic::{AtomicUsize, Ordering};
        let read = AtomicUsize::new(0);
        let source = (0..usize::MAX).inspect(|_| {
            read.fetch_add(1, Ordering::Relaxed);
        });
        let first: Vec<usize> = read_ahead_on_thread(source, |items| items.take(10).collect());
        assert_eq!(first, (0..10).collect::<Vec<_>>());
        let read = read.load(Ordering::Relaxed);
        assert!(
            read <= CHUNK * (CHUNKS_AHEAD + 3),
            "the reader went on for {read} items after the apply stopped"
        );
    }

    /// Errors travel in place: the apply sees the items before one, then the error.
    #[test]
    fn an_error_arrives_where_the_reader_met_it() {
        let source = (0..5000).map(|i| if i == 4100 { Err(i) } else { Ok(i) });
        let got: Result<Vec<i32>, i32> = read_ahead_on_thread(source, |items| items.collect());
        assert_eq!(got, Err(4100));
    }
}
