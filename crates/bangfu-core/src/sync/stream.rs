//! Reading a changeset file as a stream (issue 20): a sealed envelope decrypted, the framing
//! read, the body inflated and its ops parsed as they are read, so what an import holds does
//! not grow with the file. The checksums (the trailer over the whole file and the body's own
//! hash) are checked after the last op, before the import commits: the import is one
//! transaction, so a file that fails them is still refused whole.
//!
//! The archive's files a format 2 file carries after its body are read one at a time after the
//! last op, each checked against its SHA-256 and set aside in a [`BlobSpool`] (a temporary
//! file) when the import wants it, so an import holds at most one file in memory.

use std::io::{self, BufRead, BufReader, Read};
use std::sync::{Arc, Mutex, MutexGuard};

use age::x25519::Identity;
use sha2::{Digest, Sha256};

use super::changeset::{self, BlobRef, ChangesetError, Header, OpSource, Ops};
use super::exchange::SyncError;
use super::seal;
use crate::archive::BlobSpool;

/// Bytes of the fixed framing: magic, version, header length, body length.
const FIXED: u64 = 22;
/// A changeset header is names and ranges; past this it is not one of ours.
const MAX_HEADER: u32 = 256 << 20;
/// Buffers between the layers; the largest thing an import holds per file.
const BUFFER: usize = 256 << 10;

/// What the bytes read so far hash to, by region of the file.
struct Hashes {
    pos: u64,
    body_start: u64,
    body_end: u64,
    trailer_start: u64,
    all: Sha256,
    body: Sha256,
    trailer: Vec<u8>,
    extra: bool,
}

impl Hashes {
    fn feed(&mut self, bytes: &[u8]) {
        let start = self.pos;
        let end = start + bytes.len() as u64;
        let part = |lo: u64, hi: u64| -> &[u8] {
            let (a, b) = (lo.max(start), hi.min(end));
            if a >= b {
                &[]
            } else {
                &bytes[(a - start) as usize..(b - start) as usize]
            }
        };
        self.all.update(part(0, self.trailer_start));
        self.body.update(part(self.body_start, self.body_end));
        let trailer_end = self.trailer_start.saturating_add(32);
        self.trailer
            .extend_from_slice(part(self.trailer_start, trailer_end));
        if end > trailer_end {
            self.extra = true;
        }
        self.pos = end;
    }
}

/// A reader that hashes every byte passing through it.
struct Hashing<R> {
    inner: R,
    hashes: Arc<Mutex<Hashes>>,
}

impl<R: Read> Read for Hashing<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        lock(&self.hashes).feed(&buf[..n]);
        Ok(n)
    }
}

type Body<'a> = BufReader<
    flate2::bufread::DeflateDecoder<BufReader<io::Take<Hashing<Box<dyn Read + Send + 'a>>>>>,
>;

/// The inflated op stream of a file being read, with what checks the file at its end.
pub struct StreamSource<'a> {
    r: Body<'a>,
    scratch: Vec<u8>,
    hashes: Arc<Mutex<Hashes>>,
    body_sha256: String,
    /// The archive's files after the body, read and checked at the end.
    files: Vec<BlobRef>,
    /// Where the wanted files go until the import commits; `None`: only checked.
    spool: Option<Arc<Mutex<BlobSpool>>>,
}

impl std::fmt::Debug for StreamSource<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StreamSource").finish_non_exhaustive()
    }
}

/// Marks the errors of a sealed payload's reader (age): a chunk that does not decrypt.
#[derive(Debug)]
struct SealedPayloadError;

impl std::fmt::Display for SealedPayloadError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("sealed payload does not decrypt")
    }
}

impl std::error::Error for SealedPayloadError {}

/// The age reader, its failures marked as the sealed payload's.
struct SealedReader<R>(R);

impl<R: Read> Read for SealedReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.0.read(buf).map_err(|e| match e.kind() {
            io::ErrorKind::Interrupted => e,
            _ => io::Error::other(SealedPayloadError),
        })
    }
}

fn read_error(e: io::Error) -> ChangesetError {
    if e.get_ref()
        .is_some_and(|inner| inner.is::<SealedPayloadError>())
    {
        return ChangesetError::SealedPayload;
    }
    match e.kind() {
        io::ErrorKind::UnexpectedEof => ChangesetError::Truncated,
        // A sealed chunk that does not authenticate, or a deflate stream that is not one.
        _ => ChangesetError::Altered,
    }
}

impl StreamSource<'_> {
    /// Sets the files this import wants aside as they are read (see [`BlobSpool`]).
    pub fn spool_files(&mut self, spool: Arc<Mutex<BlobSpool>>) {
        self.spool = Some(spool);
    }

    /// Reads what is left of the body without inflating it, then the trailer, and checks both
    /// checksums: for a file whose ops are not needed (already imported).
    pub fn verify_rest(&mut self) -> Result<(), ChangesetError> {
        let take = self.r.get_mut().get_mut().get_mut();
        io::copy(take, &mut io::sink()).map_err(read_error)?;
        self.check_end()
    }

    fn check_end(&mut self) -> Result<(), ChangesetError> {
        let take = self.r.get_mut().get_mut().get_mut();
        if take.limit() > 0 {
            io::copy(take, &mut io::sink()).map_err(read_error)?;
            if take.limit() > 0 {
                return Err(ChangesetError::Truncated);
            }
        }
        let hashing = take.get_mut();
        // The archive's files, one at a time: each at most the archive's bound.
        let mut bytes = Vec::new();
        for file in std::mem::take(&mut self.files) {
            bytes.clear();
            (&mut *hashing)
                .take(file.size)
                .read_to_end(&mut bytes)
                .map_err(read_error)?;
            if bytes.len() as u64 != file.size {
                return Err(ChangesetError::Truncated);
            }
            let media = changeset::check_carried_file(&file.sha256, &bytes)?;
            if let Some(spool) = &self.spool {
                let mut spool = lock(spool);
                if spool.wants(&file.sha256) {
                    spool
                        .set_aside(&file.sha256, media, &bytes)
                        .map_err(|_| ChangesetError::SpoolFailed)?;
                }
            }
        }
        let mut trailer = [0u8; 32];
        hashing.read_exact(&mut trailer).map_err(read_error)?;
        let mut one = [0u8; 1];
        let more = hashing.read(&mut one).map_err(read_error)?;
        let mut hashes = lock(&self.hashes);
        if more > 0 || hashes.extra {
            return Err(ChangesetError::Altered);
        }
        let all = std::mem::take(&mut hashes.all).finalize();
        let body = std::mem::take(&mut hashes.body).finalize();
        if all.as_slice() != hashes.trailer.as_slice()
            || super::signing::hex(&body) != self.body_sha256
        {
            return Err(ChangesetError::Altered);
        }
        Ok(())
    }

    fn fill(&mut self, n: usize) -> Result<(), ChangesetError> {
        self.scratch.clear();
        if let Some(bytes) = self.r.buffer().get(..n) {
            self.scratch.extend_from_slice(bytes);
            self.r.consume(n);
            return Ok(());
        }
        // Grows as bytes arrive: a hostile length allocates only what the file holds.
        (&mut self.r)
            .take(n as u64)
            .read_to_end(&mut self.scratch)
            .map_err(read_error)?;
        if self.scratch.len() != n {
            return Err(ChangesetError::Malformed("length"));
        }
        Ok(())
    }
}

impl OpSource for StreamSource<'_> {
    fn varint(&mut self) -> Result<u64, ChangesetError> {
        // Fast path: the whole varint sits in the buffer (all but a few per buffer refill).
        {
            let buf = self.r.buffer();
            if buf.len() >= 10 {
                let mut pos = 0;
                let v = super::op::get_varint(buf, &mut pos)
                    .ok_or(ChangesetError::Malformed("varint"))?;
                self.r.consume(pos);
                return Ok(v);
            }
        }
        let mut v: u64 = 0;
        for shift in (0..64).step_by(7) {
            let byte = {
                let buf = self.r.fill_buf().map_err(read_error)?;
                *buf.first().ok_or(ChangesetError::Malformed("varint"))?
            };
            self.r.consume(1);
            v |= u64::from(byte & 0x7F) << shift;
            if byte & 0x80 == 0 {
                return Ok(v);
            }
        }
        Err(ChangesetError::Malformed("varint"))
    }

    fn bytes(&mut self, n: usize) -> Result<&[u8], ChangesetError> {
        self.fill(n)?;
        Ok(&self.scratch)
    }

    fn length(&mut self) -> Result<usize, ChangesetError> {
        usize::try_from(self.varint()?).map_err(|_| ChangesetError::Malformed("length"))
    }

    fn at_end(&mut self) -> Result<bool, ChangesetError> {
        Ok(self.r.fill_buf().map_err(read_error)?.is_empty())
    }

    fn room(&self) -> usize {
        usize::MAX
    }

    fn finish(&mut self) -> Result<(), ChangesetError> {
        self.check_end()
    }
}

/// The ops of a file being read.
pub type StreamOps<'a> = Ops<StreamSource<'a>>;

/// The changeset inside `input`: opened with this copy's sealing keys when sealed (a file not
/// for it is refused, naming who it is for), as it is otherwise.
pub fn inner<'a>(
    mut input: Box<dyn BufRead + Send + 'a>,
    identities: &[Identity],
    this_device: &str,
) -> Result<Box<dyn Read + Send + 'a>, SyncError> {
    let sealed = seal::is_sealed(input.fill_buf().map_err(seal::SealError::Io)?);
    if !sealed {
        return Ok(Box::new(input));
    }
    let (_, reader) = seal::open_reader(input, identities, this_device)?;
    Ok(Box::new(SealedReader(reader)))
}

/// Opens a changeset file as a stream: its header, checked as [`changeset::read_header`]
/// checks it, and its ops, read as they are needed; the checksums are checked after the last.
pub fn open<'a>(
    input: Box<dyn BufRead + Send + 'a>,
    identities: &[Identity],
    this_device: &str,
) -> Result<(Header, StreamOps<'a>), SyncError> {
    let inner = inner(input, identities, this_device)?;
    let hashes = Arc::new(Mutex::new(Hashes {
        pos: 0,
        body_start: u64::MAX,
        body_end: 0,
        trailer_start: u64::MAX,
        all: Sha256::new(),
        body: Sha256::new(),
        trailer: Vec::new(),
        extra: false,
    }));
    let mut hashing = Hashing {
        inner,
        hashes: Arc::clone(&hashes),
    };
    let mut fixed = [0u8; FIXED as usize];
    let got = read_up_to(&mut hashing, &mut fixed).map_err(read_error)?;
    if got < changeset::MAGIC.len() || &fixed[..changeset::MAGIC.len()] != changeset::MAGIC {
        return Err(ChangesetError::NotAChangeset.into());
    }
    if got < fixed.len() {
        return Err(ChangesetError::Truncated.into());
    }
    let version = u16::from_le_bytes([fixed[8], fixed[9]]);
    if !changeset::reads_version(version) {
        return Err(ChangesetError::UnknownFormat(version).into());
    }
    let header_len = u32::from_le_bytes([fixed[10], fixed[11], fixed[12], fixed[13]]);
    let mut body_len = [0u8; 8];
    body_len.copy_from_slice(&fixed[14..22]);
    let body_len = u64::from_le_bytes(body_len);
    if header_len > MAX_HEADER {
        return Err(ChangesetError::Malformed("header").into());
    }
    {
        let mut h = lock(&hashes);
        h.body_start = FIXED + u64::from(header_len);
        h.body_end = h.body_start.saturating_add(body_len);
        h.trailer_start = h.body_end;
    }
    let mut json = Vec::new();
    (&mut hashing)
        .take(u64::from(header_len))
        .read_to_end(&mut json)
        .map_err(read_error)?;
    if json.len() != header_len as usize {
        return Err(ChangesetError::Truncated.into());
    }
    let header: Header =
        serde_json::from_slice(&json).map_err(|_| ChangesetError::Malformed("header"))?;
    changeset::check_declared_ranges(&header)?;
    if version == changeset::FORMAT_VERSION_WITHOUT_FILES && header.blobs.is_some() {
        return Err(ChangesetError::Malformed("files in a format 1 file").into());
    }
    let files_len = header.blob_bytes()?;
    {
        let mut h = lock(&hashes);
        h.trailer_start = h.body_end.saturating_add(files_len);
    }
    let body = BufReader::with_capacity(
        BUFFER,
        flate2::bufread::DeflateDecoder::new(BufReader::with_capacity(
            BUFFER,
            hashing.take(body_len),
        )),
    );
    let source = StreamSource {
        r: body,
        scratch: Vec::new(),
        hashes,
        body_sha256: header.body_sha256.clone(),
        files: header.blobs.clone().unwrap_or_default(),
        spool: None,
    };
    let ops = Ops::from_source(source, header.op_count)?;
    Ok((header, ops))
}

/// The whole changeset inside `input` (for keeping a held file).
pub fn read_inner(
    input: Box<dyn BufRead + Send + '_>,
    identities: &[Identity],
    this_device: &str,
) -> Result<Vec<u8>, SyncError> {
    let mut reader = inner(input, identities, this_device)?;
    let mut out = Vec::new();
    reader
        .read_to_end(&mut out)
        .map_err(|e| SyncError::from(read_error(e)))?;
    Ok(out)
}

/// A lock of state the reading layers share. Only one thread reads a file at a time, so a
/// poisoned lock (a panic while reading) leaves nothing half-changed worth refusing.
fn lock<T>(shared: &Mutex<T>) -> MutexGuard<'_, T> {
    shared
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// Reads until `buf` is full or the reader ends; how many bytes it read.
pub(crate) fn read_up_to<R: Read>(r: &mut R, buf: &mut [u8]) -> io::Result<usize> {
    let mut got = 0;
    while got < buf.len() {
        match r.read(&mut buf[got..]) {
            Ok(0) => break,
            Ok(n) => got += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(got)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::FieldValue;
    use crate::sync::{Hlc, Op, OpId};
    use uuid::Uuid;

    fn file() -> Vec<u8> {
        let origin = Uuid::now_v7();
        let ops: Vec<Op> = (1..=40)
            .map(|seq| Op {
                id: OpId { origin, seq },
                hlc: Hlc::new(1_700_000_000_000 + seq as u64, 0),
                table: 2,
                row: Uuid::now_v7(),
                field: "code".into(),
                value: FieldValue::Text(format!("5308261032010{seq:02}")),
                preds: vec![],
                seen: vec![],
            })
            .collect();
        let header = Header {
            format_version: 0,
            schema_version: 1,
            source_device: origin,
            source_name: "村".into(),
            created_ms: 1,
            covered: Default::default(),
            device_names: Default::default(),
            op_count: 0,
            body_sha256: String::new(),
            carried: None,
            snapshot: None,
            held: None,
            signers: None,
            batches: None,
            seal_keys: None,
            blobs: None,
            parts: None,
            source_sig: None,
            county_certs: None,
        };
        changeset::encode(header, &ops)
    }

    /// A format 2 file: the 40 ops and two files of the archive (one past a stream buffer).
    fn file_with_files() -> (Vec<u8>, Vec<(String, Vec<u8>)>) {
        let plain = file();
        let (header, ops) = changeset::decode(&plain).unwrap();
        let mut big = b"%PDF-1.4 ".to_vec();
        big.extend((0..300_000u32).map(|i| (i * 7 % 251) as u8));
        let small = b"\x89PNG\r\n\x1a\n a photo".to_vec();
        let files = vec![
            (crate::archive::sha256_hex(&big), big),
            (crate::archive::sha256_hex(&small), small),
        ];
        (changeset::encode_with_files(header, &ops, &files), files)
    }

    /// Reads a file as an import does, setting every file it carries aside.
    fn read_with_files(bytes: &[u8], wanted: &[String]) -> Result<(Vec<Op>, usize), SyncError> {
        let (_, mut ops) = open(Box::new(bytes), &[], "我")?;
        let spool = Arc::new(Mutex::new(BlobSpool::new(wanted.to_vec())));
        ops.source_mut().spool_files(Arc::clone(&spool));
        let ops = ops.collect::<Result<Vec<_>, _>>()?;
        let set_aside = lock(&spool).len();
        Ok((ops, set_aside))
    }

    #[test]
    fn a_file_without_files_stays_format_1_and_one_with_files_is_format_2() {
        assert_eq!(file()[8..10], [1, 0]);
        let (with, files) = file_with_files();
        assert_eq!(with[8..10], [2, 0]);
        let carried = changeset::read_files(&with).unwrap();
        assert_eq!(
            carried
                .iter()
                .map(|(h, b)| (h.clone(), b.to_vec()))
                .collect::<Vec<_>>(),
            files
        );
        // The ops read the same, whole or streamed, and the wanted file is set aside.
        let (_, whole) = changeset::decode(&with).unwrap();
        let (streamed, set_aside) = read_with_files(&with, &[files[0].0.clone()]).unwrap();
        assert_eq!((streamed, set_aside), (whole, 1));
    }

    #[test]
    fn every_truncation_and_every_flipped_byte_of_a_file_with_files_is_refused() {
        let (with, files) = file_with_files();
        let wanted: Vec<String> = files.iter().map(|(h, _)| h.clone()).collect();
        // Every byte of the header and body, and a stride through the carried files.
        let offsets: Vec<usize> = (0..with.len())
            .filter(|at| *at < 4_000 || at % 997 == 0 || *at + 200 > with.len())
            .collect();
        for &cut in &offsets {
            assert!(
                read_with_files(&with[..cut], &wanted).is_err(),
                "cut at {cut}"
            );
            assert!(changeset::read_files(&with[..cut]).is_err(), "cut at {cut}");
        }
        for &at in &offsets {
            let mut bad = with.clone();
            bad[at] ^= 0x20;
            assert!(read_with_files(&bad, &wanted).is_err(), "flip at {at}");
            assert!(changeset::read_files(&bad).is_err(), "flip at {at}");
        }
    }

    /// A carried file altered by someone who also recomputed the trailer is refused by its own
    /// hash, whole, naming the archive's file.
    #[test]
    fn a_carried_file_altered_with_the_trailer_recomputed_is_refused_by_its_hash() {
        let (mut with, _) = file_with_files();
        let at = with.len() - 32 - 5;
        with[at] ^= 0x01;
        let n = with.len() - 32;
        let trailer = Sha256::digest(&with[..n]);
        with[n..].copy_from_slice(&trailer);
        let err = read_with_files(&with, &[]).unwrap_err();
        assert!(matches!(
            err,
            SyncError::Changeset(ChangesetError::BlobAltered { .. })
        ));
        assert!(matches!(
            changeset::read_files(&with),
            Err(ChangesetError::BlobAltered { .. })
        ));
    }

    fn read_all(bytes: &[u8]) -> Result<Vec<Op>, SyncError> {
        let (_, ops) = open(Box::new(bytes), &[], "我")?;
        ops.collect::<Result<Vec<_>, _>>().map_err(SyncError::from)
    }

    #[test]
    fn a_streamed_file_reads_the_ops_the_whole_decoder_reads() {
        let file = file();
        let (_, whole) = changeset::decode(&file).unwrap();
        assert_eq!(read_all(&file).unwrap(), whole);
    }

    /// The stream checks the checksums at its end: every cut and every flipped byte fails
    /// somewhere before the last op is handed over or at the end.
    #[test]
    fn every_truncation_and_every_flipped_byte_fails_the_stream() {
        let file = file();
        for cut in 0..file.len() {
            assert!(read_all(&file[..cut]).is_err(), "cut at {cut}");
        }
        for at in 0..file.len() {
            let mut bad = file.clone();
            bad[at] ^= 0x20;
            assert!(read_all(&bad).is_err(), "flip at {at}");
        }
        let mut longer = file.clone();
        longer.push(0);
        assert!(read_all(&longer).is_err(), "a byte past the trailer");
    }
}
