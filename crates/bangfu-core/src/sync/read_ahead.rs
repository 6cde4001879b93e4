//! Reading a file on a second core while the first applies it (issue 20).
//!
//! An import decrypts, hashes, inflates and parses its file and checks every batch's
//! signature; the store then applies the ops. The two halves share nothing but the ops, so
//! the reading runs on a thread of its own a few chunks ahead: the merge takes the time of
//! the apply alone, not of both. What the reader holds stays bounded (chunks of at most
//! [`CHUNK`] items and [`CHUNK_BYTES`], at most [`CHUNKS_AHEAD`] of them waiting), so memory
//! does not grow with the file, and a machine with one core reads on the applying thread as
//! before.
//!
//! Order is kept, and so is every outcome: the items and errors the apply sees are exactly
//! the ones the reader yields, in its order. The reader says when it has read everything
//! ([`Handed::End`]); a reader that stops without saying so (it panicked) makes the apply
//! panic too, so the import's transaction unwinds and nothing of the file is kept, as when
//! both ran on one thread. When the apply stops early (an error of its own), the reader is
//! stopped at its next chunk and joined before this returns, so nothing outlives the import.

use std::sync::mpsc;

/// Items per chunk handed from the reader to the apply: large enough that a hand-over costs
/// nothing next to the items, small enough to stay a few hundred kilobytes.
const CHUNK: usize = 2048;
/// About the most memory one chunk's items take (ops with long texts: 走访 notes).
const CHUNK_BYTES: usize = 512 << 10;
/// Chunks the reader may be ahead of the apply.
const CHUNKS_AHEAD: usize = 4;

/// What the reader hands the apply.
enum Handed<T> {
    Chunk(Vec<T>),
    /// Everything was read: the source ended.
    End,
}

/// Runs `consume` over the items of `source`, with `source` read on a thread of its own when
/// the machine has a second core; `weigh` says about how many bytes an item holds. Returns
/// what `consume` returns.
pub(crate) fn read_ahead<T, R>(
    source: impl Iterator<Item = T> + Send,
    weigh: impl Fn(&T) -> usize + Send,
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
    read_ahead_on_thread(source, weigh, consume)
}

/// The apply's side: the items of each chunk in turn, until the reader's [`Handed::End`].
struct Received<T> {
    receive: mpsc::Receiver<Handed<T>>,
    chunk: std::vec::IntoIter<T>,
    ended: bool,
}

impl<T> Iterator for Received<T> {
    type Item = T;

    fn next(&mut self) -> Option<T> {
        loop {
            if let Some(item) = self.chunk.next() {
                return Some(item);
            }
            if self.ended {
                return None;
            }
            match self.receive.recv() {
                Ok(Handed::Chunk(chunk)) => self.chunk = chunk.into_iter(),
                Ok(Handed::End) => self.ended = true,
                // Never an end of the file: the apply must not take what it got as all.
                Err(mpsc::RecvError) => panic!("the file's reader stopped before the end"),
            }
        }
    }
}

fn read_ahead_on_thread<T, R>(
    source: impl Iterator<Item = T> + Send,
    weigh: impl Fn(&T) -> usize + Send,
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
        let (send, receive) = mpsc::sync_channel::<Handed<T>>(CHUNKS_AHEAD);
        let reader = std::thread::Builder::new()
            .name("bangfu-read-ahead".into())
            .spawn_scoped(scope, move || {
                let Some(source) = take() else { return };
                let mut chunk = Vec::with_capacity(CHUNK);
                let mut bytes = 0;
                for item in source {
                    bytes += weigh(&item);
                    chunk.push(item);
                    if chunk.len() == CHUNK || bytes >= CHUNK_BYTES {
                        let full = std::mem::replace(&mut chunk, Vec::with_capacity(CHUNK));
                        bytes = 0;
                        if send.send(Handed::Chunk(full)).is_err() {
                            // The apply stopped: nothing more is wanted.
                            return;
                        }
                    }
                }
                if !chunk.is_empty() && send.send(Handed::Chunk(chunk)).is_err() {
                    return;
                }
                let _ = send.send(Handed::End);
            });
        match reader {
            Ok(_) => {
                let mut items = Received {
                    receive,
                    chunk: Vec::new().into_iter(),
                    ended: false,
                };
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
        let seen: Vec<usize> = read_ahead_on_thread(0..n, |_| 1, |items| items.collect());
        assert_eq!(seen, (0..n).collect::<Vec<_>>());
        let none: Vec<usize> = read_ahead_on_thread(0..0, |_| 1, |items| items.collect());
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
        let first: Vec<usize> =
            read_ahead_on_thread(source, |_| 1, |items| items.take(10).collect());
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
        let got: Result<Vec<i32>, i32> =
            read_ahead_on_thread(source, |_| 1, |items| items.collect());
        assert_eq!(got, Err(4100));
    }

    /// A reader that dies before the end (a panic while reading) never looks like the end of
    /// the file: the apply panics too instead of taking what it got as everything.
    #[test]
    fn a_reader_that_dies_is_never_taken_for_the_end_of_the_file() {
        let source = (0..CHUNK * 3).inspect(|&i| {
            assert!(i != CHUNK * 2 + 5, "the reader fails here");
        });
        use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
        let applied = AtomicUsize::new(0);
        // What the apply does after its last op: commit.
        let committed = AtomicBool::new(false);
        let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            read_ahead_on_thread(
                source,
                |_| 1,
                |items| {
                    for _ in items {
                        applied.fetch_add(1, Ordering::Relaxed);
                    }
                    committed.store(true, Ordering::Relaxed);
                },
            )
        }));
        assert!(outcome.is_err());
        assert!(
            !committed.load(Ordering::Relaxed),
            "the apply went on to commit what it got"
        );
        assert!(applied.load(Ordering::Relaxed) <= CHUNK * 2 + 5);
    }

    /// Chunks are cut by size too: of items of 300 KB the reader holds a few chunks of two,
    /// not one chunk of everything (40 items, far under 2,048).
    #[test]
    fn large_items_are_handed_in_small_chunks() {
        use std::sync::atomic::{AtomicUsize, Ordering};
        let read = AtomicUsize::new(0);
        let source = (0..40).map(|_| vec![0u8; 300 << 10]).inspect(|_| {
            read.fetch_add(1, Ordering::Relaxed);
        });
        let (count, ahead) = read_ahead_on_thread(
            source,
            |item: &Vec<u8>| item.len(),
            |items| {
                let first = items.next().map_or(0, |item| item.len());
                assert_eq!(first, 300 << 10);
                // Time for the reader to fill every chunk it may.
                std::thread::sleep(std::time::Duration::from_millis(300));
                let ahead = read.load(Ordering::Relaxed);
                (1 + items.count(), ahead)
            },
        );
        assert_eq!(count, 40);
        assert!(
            ahead <= 2 * (CHUNKS_AHEAD + 2) + 1,
            "the reader read {ahead} items of 300 KB ahead"
        );
    }
}
