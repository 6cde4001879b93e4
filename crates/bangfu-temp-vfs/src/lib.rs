//! SQLite's temporary files, encrypted on disk.
//!
//! SQLCipher encrypts a data file's pages and its journals, not the temporary files SQLite
//! makes beside them: the runs a large sort writes (`CREATE INDEX`, `ORDER BY`, `GROUP BY`),
//! temporary tables and automatic indexes, statement journals. Its build keeps them in memory
//! instead (`SQLITE_TEMP_STORE=2`), so a sort holds every one of its entries in memory and a
//! county's merge grows with the county.
//!
//! This crate registers an SQLite VFS, [`VFS_NAME`], that is the platform's own for every file
//! but encrypts the temporary ones with ChaCha20 under a key drawn when the process starts and
//! never written anywhere. SQLite rewrites parts of these files in place (a temporary table's
//! pages, a sort's merge buffers, a statement journal used again from its start), so no
//! keystream may serve twice: the file is taken in blocks of 4 KiB, each with a generation
//! held in memory, and every write of a block encrypts it whole under its next generation
//! (the nonce is the file's number and the block's generation). A connection opened on it with `PRAGMA temp_store = FILE` lets
//! SQLite spill a sort to disk once it passes its memory bound, and what reaches the disk
//! cannot be read by anyone who finds the laptop or the file. A temporary file lives as long
//! as the statement or connection that made it (SQLite deletes it on close, on Unix right at
//! open), and the key dies with the process, so a file left by a power cut is noise.
//!
//! It must not: change a byte of the data files, their journals or their write-ahead logs
//! (those pass through as they are: SQLCipher encrypts them), encrypt two contents with the
//! same keystream, or hold any state shared between files beyond the process key and a
//! counter.

use std::ffi::{CStr, c_int, c_void};
use std::ptr;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU64, Ordering};

use chacha20::ChaCha20;
use chacha20::cipher::{KeyIvInit, StreamCipher, StreamCipherSeek};
use rand::RngCore;
use rusqlite::ffi;

/// The name connections pass to open on this VFS.
pub const VFS_NAME: &str = "bangfu-sealed-temp";
const VFS_NAME_C: &CStr = c"bangfu-sealed-temp";

/// Which files are encrypted: the ones SQLCipher leaves in the clear (for a keyed data file it
/// encrypts the pages of a statement journal too; sealed twice, they cost a little time).
const SEALED_KINDS: c_int = ffi::SQLITE_OPEN_TEMP_DB
    | ffi::SQLITE_OPEN_TRANSIENT_DB
    | ffi::SQLITE_OPEN_TEMP_JOURNAL
    | ffi::SQLITE_OPEN_SUBJOURNAL;

/// The platform VFS this one wraps and the process key.
struct State {
    real: *mut ffi::sqlite3_vfs,
    key: [u8; 32],
}

// SAFETY: `real` points to a VFS SQLite keeps registered for the life of the process; its
// methods may be called from any thread (SQLite's own contract for a VFS).
unsafe impl Send for State {}
// SAFETY: as above; `State` is never written after it is made.
unsafe impl Sync for State {}

/// Set before the VFS is registered, so no file can be opened on it without.
static STATE: OnceLock<State> = OnceLock::new();

static REGISTERED: OnceLock<Result<(), c_int>> = OnceLock::new();

/// Each temporary file's number, the first part of its blocks' nonces: never the same twice
/// under the process key.
static NEXT_FILE: AtomicU64 = AtomicU64::new(1);

/// The unit a generation covers.
const BLOCK: u64 = 4096;

/// How large a temporary file may grow: ChaCha20's keystream for one nonce ends at 256 GiB, and
/// the generations of a file this large take 256 MB.
const MAX_FILE: u64 = 1 << 38;

/// How many bytes went to encrypted temporary files since the process started.
static BYTES_SEALED: AtomicU64 = AtomicU64::new(0);

/// How many bytes this process wrote to encrypted temporary files: how much its sorts and
/// temporary tables spilled out of memory (the bench prints it beside a merge's peak memory).
pub fn bytes_sealed() -> u64 {
    BYTES_SEALED.load(Ordering::Relaxed)
}

/// Registers the VFS (once; later calls return the first outcome). Returns its name, or the
/// SQLite error code that kept it from being registered.
pub fn register() -> Result<&'static str, c_int> {
    match REGISTERED.get_or_init(make) {
        Ok(()) => Ok(VFS_NAME),
        Err(code) => Err(*code),
    }
}

fn make() -> Result<(), c_int> {
    // SAFETY: `sqlite3_vfs_find` initializes SQLite if needed and returns the default VFS or
    // null; it may be called from any thread.
    let real = unsafe { ffi::sqlite3_vfs_find(ptr::null()) };
    if real.is_null() {
        return Err(ffi::SQLITE_ERROR);
    }
    let mut key = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut key);
    // SAFETY: `real` is a registered VFS; the copy keeps its methods and data (paths, locks,
    // time, randomness all stay the platform's), and only opening a file goes through us.
    // `pNext` is SQLite's list link (read here unlocked, and replaced): never used.
    let mut vfs: ffi::sqlite3_vfs = unsafe { *real };
    vfs.pNext = ptr::null_mut();
    vfs.zName = VFS_NAME_C.as_ptr();
    // SAFETY of the arithmetic: `szOsFile` is a small positive size the platform chose.
    vfs.szOsFile = (std::mem::size_of::<SealedFile>() as c_int).saturating_add(vfs.szOsFile);
    vfs.xOpen = Some(x_open);
    // SQLite keeps the pointer for the life of the process.
    let vfs: &'static mut ffi::sqlite3_vfs = Box::leak(Box::new(vfs));
    // `make` runs once (`REGISTERED`), so this sets the state.
    let _ = STATE.set(State { real, key });
    // SAFETY: `vfs` is a valid, fully initialized VFS that lives forever.
    let rc = unsafe { ffi::sqlite3_vfs_register(vfs, 0) };
    if rc != ffi::SQLITE_OK {
        return Err(rc);
    }
    Ok(())
}

/// One open file: our header, then the platform's own file structure.
#[repr(C)]
struct SealedFile {
    base: ffi::sqlite3_file,
    real: *mut ffi::sqlite3_file,
    sealed: bool,
    /// The file's number (see [`NEXT_FILE`]).
    number: u64,
    /// Per block of [`BLOCK`] bytes, the generation its bytes on disk are encrypted under;
    /// 0: never written (read as the platform gives it: zeros). Never lowered, not even by a
    /// truncation: a block written again after one takes a generation it never had.
    generations: Vec<u32>,
}

// The platform's structure follows ours: SQLite aligns its memory to 8 bytes.
const _: () = assert!(std::mem::size_of::<SealedFile>().is_multiple_of(8));

/// Our methods in the platform file's version: a platform without shared memory (version 1)
/// must not look as if it had it, or SQLite would take a write-ahead log it cannot keep.
const fn methods_of(version: c_int) -> ffi::sqlite3_io_methods {
    ffi::sqlite3_io_methods {
        iVersion: version,
        ..METHODS
    }
}

static METHODS_V1: ffi::sqlite3_io_methods = methods_of(1);
static METHODS_V2: ffi::sqlite3_io_methods = methods_of(2);

static METHODS: ffi::sqlite3_io_methods = ffi::sqlite3_io_methods {
    iVersion: 3,
    xClose: Some(x_close),
    xRead: Some(x_read),
    xWrite: Some(x_write),
    xTruncate: Some(x_truncate),
    xSync: Some(x_sync),
    xFileSize: Some(x_file_size),
    xLock: Some(x_lock),
    xUnlock: Some(x_unlock),
    xCheckReservedLock: Some(x_check_reserved_lock),
    xFileControl: Some(x_file_control),
    xSectorSize: Some(x_sector_size),
    xDeviceCharacteristics: Some(x_device_characteristics),
    xShmMap: Some(x_shm_map),
    xShmLock: Some(x_shm_lock),
    xShmBarrier: Some(x_shm_barrier),
    xShmUnmap: Some(x_shm_unmap),
    xFetch: Some(x_fetch),
    xUnfetch: Some(x_unfetch),
};

unsafe extern "C" fn x_open(
    _vfs: *mut ffi::sqlite3_vfs,
    name: ffi::sqlite3_filename,
    file: *mut ffi::sqlite3_file,
    flags: c_int,
    out_flags: *mut c_int,
) -> c_int {
    let Some(state) = STATE.get() else {
        return ffi::SQLITE_CANTOPEN;
    };
    let sealed = file.cast::<SealedFile>();
    // SAFETY: SQLite gives `file` `szOsFile` bytes: our header, then room for the platform's
    // structure right after it (`SealedFile` is a multiple of 8 bytes, SQLite's alignment).
    let real = unsafe { file.cast::<u8>().add(std::mem::size_of::<SealedFile>()) }
        .cast::<ffi::sqlite3_file>();
    // SAFETY: `sealed` points to writable memory of our header's size; SQLite calls no method
    // of a file whose `pMethods` is null.
    unsafe {
        ptr::write(
            sealed,
            SealedFile {
                base: ffi::sqlite3_file {
                    pMethods: ptr::null(),
                },
                real,
                sealed: flags & SEALED_KINDS != 0,
                number: NEXT_FILE.fetch_add(1, Ordering::Relaxed),
                generations: Vec::new(),
            },
        );
    }
    // SAFETY: `state.real` is the platform VFS, `real` has its `szOsFile` bytes; the other
    // arguments are SQLite's own.
    let rc = unsafe {
        match (*state.real).xOpen {
            Some(open) => open(state.real, name, real, flags, out_flags),
            None => ffi::SQLITE_CANTOPEN,
        }
    };
    // SAFETY: the platform's open set `real`'s methods, or left them null when it failed and
    // needs no close. SQLite closes a file with methods even after a failed open, so the close
    // is passed on exactly when the platform asked for one.
    unsafe {
        if !(*real).pMethods.is_null() {
            (*sealed).base.pMethods = match (*(*real).pMethods).iVersion {
                ..=1 => &METHODS_V1,
                2 => &METHODS_V2,
                _ => &METHODS,
            };
        }
    }
    rc
}

/// Encrypts or decrypts (the same XOR) `buf`, the bytes at `offset` of one block, under the
/// block's `generation`. Within a block the keystream position is the byte's offset, so the
/// blocks of one generation take disjoint parts of its keystream.
fn apply_keystream(number: u64, generation: u32, offset: u64, buf: &mut [u8]) -> bool {
    let Some(state) = STATE.get() else {
        return false;
    };
    let mut nonce = [0u8; 12];
    nonce[..8].copy_from_slice(&number.to_le_bytes());
    nonce[8..].copy_from_slice(&generation.to_le_bytes());
    let mut cipher = ChaCha20::new(&state.key.into(), &nonce.into());
    // ChaCha20 reaches 256 GiB in one file; past that the file fails instead of reusing keystream.
    cipher.try_seek(offset).is_ok() && cipher.try_apply_keystream(buf).is_ok()
}

/// The block holding byte `offset`, and where the block starts.
fn block_of(offset: u64) -> (usize, u64) {
    let block = offset / BLOCK;
    (usize::try_from(block).unwrap_or(usize::MAX), block * BLOCK)
}

impl SealedFile {
    fn generation(&self, block: usize) -> u32 {
        self.generations.get(block).copied().unwrap_or(0)
    }

    /// Decrypts `buf`, read from `offset`, block by block; a block never written stays as read.
    fn decrypt(&self, offset: u64, buf: &mut [u8]) -> bool {
        let mut done = 0;
        while done < buf.len() {
            let at = offset + done as u64;
            let (block, start) = block_of(at);
            let len = (start + BLOCK - at).min((buf.len() - done) as u64) as usize;
            let generation = self.generation(block);
            if generation != 0
                && !apply_keystream(self.number, generation, at, &mut buf[done..done + len])
            {
                return false;
            }
            done += len;
        }
        true
    }
}

/// Our header and the platform's file of an open file.
///
/// # Safety
/// `file` must be a file `x_open` opened and not yet closed.
unsafe fn parts<'f>(file: *mut ffi::sqlite3_file) -> (&'f SealedFile, *mut ffi::sqlite3_file) {
    // SAFETY: per this function's contract, `file` starts with our header.
    let sealed = unsafe { &*file.cast::<SealedFile>() };
    (sealed, sealed.real)
}

/// The platform file's methods.
///
/// # Safety
/// `real` must be an open platform file.
unsafe fn methods<'f>(real: *mut ffi::sqlite3_file) -> &'f ffi::sqlite3_io_methods {
    // SAFETY: an open file's methods are set and live as long as the platform VFS.
    unsafe { &*(*real).pMethods }
}

unsafe extern "C" fn x_close(file: *mut ffi::sqlite3_file) -> c_int {
    // SAFETY: SQLite closes only files it opened through `x_open`, once, with no other call on
    // the file at the same time; the generations are freed here (SQLite frees the memory).
    let generations = unsafe { std::mem::take(&mut (*file.cast::<SealedFile>()).generations) };
    drop(generations);
    // SAFETY: as above.
    let (_, real) = unsafe { parts(file) };
    // SAFETY: as above; the platform's close is called once, as SQLite calls ours once.
    unsafe {
        match methods(real).xClose {
            Some(close) => close(real),
            None => ffi::SQLITE_OK,
        }
    }
}

unsafe extern "C" fn x_read(
    file: *mut ffi::sqlite3_file,
    buf: *mut c_void,
    amount: c_int,
    offset: ffi::sqlite3_int64,
) -> c_int {
    // SAFETY: SQLite calls methods only on files `x_open` opened.
    let (sealed, real) = unsafe { parts(file) };
    // SAFETY: as above; `buf` has `amount` writable bytes (SQLite's contract for xRead).
    let rc = unsafe {
        match methods(real).xRead {
            Some(read) => read(real, buf, amount, offset),
            None => return ffi::SQLITE_IOERR_READ,
        }
    };
    if !sealed.sealed || (rc != ffi::SQLITE_OK && rc != ffi::SQLITE_IOERR_SHORT_READ) {
        return rc;
    }
    let mut len = usize::try_from(amount).unwrap_or(0);
    if rc == ffi::SQLITE_IOERR_SHORT_READ {
        // Past the end the platform filled zeros, which SQLite reads as such: only the bytes
        // the file holds are decrypted.
        // SAFETY: `real` is open.
        let Some(size) = (unsafe { file_size(real) }) else {
            return ffi::SQLITE_IOERR_FSTAT;
        };
        let size = i64::try_from(size).unwrap_or(i64::MAX);
        len = len.min(usize::try_from(size.saturating_sub(offset)).unwrap_or(0));
    }
    // SAFETY: `buf` has `amount` bytes (≥ `len`), now initialized by the read.
    let bytes = unsafe { std::slice::from_raw_parts_mut(buf.cast::<u8>(), len) };
    match u64::try_from(offset) {
        Ok(offset) if sealed.decrypt(offset, bytes) => rc,
        _ => ffi::SQLITE_IOERR_READ,
    }
}

unsafe extern "C" fn x_write(
    file: *mut ffi::sqlite3_file,
    buf: *const c_void,
    amount: c_int,
    offset: ffi::sqlite3_int64,
) -> c_int {
    // SAFETY: SQLite calls methods only on files `x_open` opened.
    let (sealed, real) = unsafe { parts(file) };
    let sealed = sealed.sealed;
    // SAFETY: `real` is open.
    let Some(write) = (unsafe { methods(real).xWrite }) else {
        return ffi::SQLITE_IOERR_WRITE;
    };
    if !sealed {
        // SAFETY: SQLite's own arguments, passed on.
        return unsafe { write(real, buf, amount, offset) };
    }
    let (Ok(len), Ok(offset)) = (usize::try_from(amount), u64::try_from(offset)) else {
        return ffi::SQLITE_IOERR_WRITE;
    };
    // SAFETY: `buf` holds `amount` readable bytes (SQLite's contract for xWrite).
    let data = unsafe { std::slice::from_raw_parts(buf.cast::<u8>(), len) };
    // SAFETY: SQLite makes no other call on a file during this one: ours alone until it returns.
    let file = unsafe { &mut *file.cast::<SealedFile>() };
    // SAFETY: `real` is the file's open platform file.
    unsafe { write_sealed(file, real, data, offset) }
}

/// Writes `data` at `offset`: each block it touches is encrypted whole under the block's next
/// generation, its other bytes on disk read back and encrypted again with the new ones, so no
/// keystream ever covers two contents.
///
/// # Safety
/// `real` must be `file`'s open platform file.
unsafe fn write_sealed(
    file: &mut SealedFile,
    real: *mut ffi::sqlite3_file,
    data: &[u8],
    offset: u64,
) -> c_int {
    let end = offset.saturating_add(data.len() as u64);
    if end > MAX_FILE {
        return ffi::SQLITE_FULL;
    }
    let mut size: Option<u64> = None;
    let mut out: Vec<u8> = Vec::with_capacity(BLOCK as usize);
    let mut at = offset;
    while at < end {
        let (block, start) = block_of(at);
        let block_end = start + BLOCK;
        let upto = end.min(block_end);
        let new_bytes = &data[(at - offset) as usize..(upto - offset) as usize];
        let old = file.generation(block);
        let Some(new) = old.checked_add(1) else {
            return ffi::SQLITE_IOERR_WRITE;
        };
        out.clear();
        let from = if old == 0 || (at == start && upto == block_end) {
            // Never written, or written whole now: the new bytes alone.
            out.extend_from_slice(new_bytes);
            at
        } else {
            let on_disk = match size {
                Some(size) => size,
                None => {
                    // SAFETY: per this function's contract.
                    match unsafe { file_size(real) } {
                        Some(found) => *size.insert(found),
                        None => return ffi::SQLITE_IOERR_WRITE,
                    }
                }
            };
            let kept = on_disk.clamp(start, block_end);
            out.resize((kept.max(upto) - start) as usize, 0);
            let kept_len = (kept - start) as usize;
            if kept_len > 0 {
                // SAFETY: per this function's contract; `out` has `kept_len` bytes.
                if !unsafe { read_raw(real, &mut out[..kept_len], start) }
                    || !apply_keystream(file.number, old, start, &mut out[..kept_len])
                {
                    return ffi::SQLITE_IOERR_WRITE;
                }
            }
            out[(at - start) as usize..(upto - start) as usize].copy_from_slice(new_bytes);
            start
        };
        // The generation is spent before the write: a write that fails halfway is never
        // followed by another under the same keystream.
        if file.generations.len() <= block {
            let Some(len) = block.checked_add(1) else {
                return ffi::SQLITE_FULL;
            };
            file.generations.resize(len, 0);
        }
        file.generations[block] = new;
        if !apply_keystream(file.number, new, from, &mut out) {
            return ffi::SQLITE_IOERR_WRITE;
        }
        let (Ok(amount), Ok(from_at)) = (c_int::try_from(out.len()), i64::try_from(from)) else {
            return ffi::SQLITE_IOERR_WRITE;
        };
        // SAFETY: per this function's contract; `out` holds `amount` bytes.
        let rc = unsafe {
            match methods(real).xWrite {
                Some(write) => write(real, out.as_ptr().cast(), amount, from_at),
                None => ffi::SQLITE_IOERR_WRITE,
            }
        };
        if rc != ffi::SQLITE_OK {
            return rc;
        }
        BYTES_SEALED.fetch_add(new_bytes.len() as u64, Ordering::Relaxed);
        at = upto;
    }
    ffi::SQLITE_OK
}

/// The platform file's size.
///
/// # Safety
/// `real` must be an open platform file.
unsafe fn file_size(real: *mut ffi::sqlite3_file) -> Option<u64> {
    let mut size: ffi::sqlite3_int64 = 0;
    // SAFETY: per this function's contract; `size` is a valid out-pointer.
    let rc = unsafe {
        match methods(real).xFileSize {
            Some(file_size) => file_size(real, &mut size),
            None => return None,
        }
    };
    (rc == ffi::SQLITE_OK)
        .then(|| u64::try_from(size).ok())
        .flatten()
}

/// Reads `buf.len()` bytes at `offset` as they are on disk (zeros past the end).
///
/// # Safety
/// `real` must be an open platform file.
unsafe fn read_raw(real: *mut ffi::sqlite3_file, buf: &mut [u8], offset: u64) -> bool {
    let (Ok(amount), Ok(offset)) = (c_int::try_from(buf.len()), i64::try_from(offset)) else {
        return false;
    };
    // SAFETY: per this function's contract; `buf` has `amount` writable bytes.
    let rc = unsafe {
        match methods(real).xRead {
            Some(read) => read(real, buf.as_mut_ptr().cast(), amount, offset),
            None => return false,
        }
    };
    rc == ffi::SQLITE_OK || rc == ffi::SQLITE_IOERR_SHORT_READ
}

unsafe extern "C" fn x_truncate(file: *mut ffi::sqlite3_file, size: ffi::sqlite3_int64) -> c_int {
    // SAFETY: SQLite calls methods only on files `x_open` opened.
    unsafe {
        let (_, real) = parts(file);
        match methods(real).xTruncate {
            Some(f) => f(real, size),
            None => ffi::SQLITE_IOERR_TRUNCATE,
        }
    }
}

unsafe extern "C" fn x_sync(file: *mut ffi::sqlite3_file, flags: c_int) -> c_int {
    // SAFETY: SQLite calls methods only on files `x_open` opened.
    unsafe {
        let (_, real) = parts(file);
        match methods(real).xSync {
            Some(f) => f(real, flags),
            None => ffi::SQLITE_IOERR_FSYNC,
        }
    }
}

unsafe extern "C" fn x_file_size(
    file: *mut ffi::sqlite3_file,
    size: *mut ffi::sqlite3_int64,
) -> c_int {
    // SAFETY: SQLite calls methods only on files `x_open` opened.
    unsafe {
        let (_, real) = parts(file);
        match methods(real).xFileSize {
            Some(f) => f(real, size),
            None => ffi::SQLITE_IOERR_FSTAT,
        }
    }
}

unsafe extern "C" fn x_lock(file: *mut ffi::sqlite3_file, level: c_int) -> c_int {
    // SAFETY: SQLite calls methods only on files `x_open` opened.
    unsafe {
        let (_, real) = parts(file);
        match methods(real).xLock {
            Some(f) => f(real, level),
            None => ffi::SQLITE_IOERR_LOCK,
        }
    }
}

unsafe extern "C" fn x_unlock(file: *mut ffi::sqlite3_file, level: c_int) -> c_int {
    // SAFETY: SQLite calls methods only on files `x_open` opened.
    unsafe {
        let (_, real) = parts(file);
        match methods(real).xUnlock {
            Some(f) => f(real, level),
            None => ffi::SQLITE_IOERR_UNLOCK,
        }
    }
}

unsafe extern "C" fn x_check_reserved_lock(file: *mut ffi::sqlite3_file, out: *mut c_int) -> c_int {
    // SAFETY: SQLite calls methods only on files `x_open` opened.
    unsafe {
        let (_, real) = parts(file);
        match methods(real).xCheckReservedLock {
            Some(f) => f(real, out),
            None => ffi::SQLITE_IOERR_CHECKRESERVEDLOCK,
        }
    }
}

unsafe extern "C" fn x_file_control(
    file: *mut ffi::sqlite3_file,
    op: c_int,
    arg: *mut c_void,
) -> c_int {
    // SAFETY: SQLite calls methods only on files `x_open` opened.
    unsafe {
        let (_, real) = parts(file);
        match methods(real).xFileControl {
            Some(f) => f(real, op, arg),
            None => ffi::SQLITE_NOTFOUND,
        }
    }
}

unsafe extern "C" fn x_sector_size(file: *mut ffi::sqlite3_file) -> c_int {
    // SAFETY: SQLite calls methods only on files `x_open` opened.
    unsafe {
        let (_, real) = parts(file);
        match methods(real).xSectorSize {
            Some(f) => f(real),
            None => 4096,
        }
    }
}

unsafe extern "C" fn x_device_characteristics(file: *mut ffi::sqlite3_file) -> c_int {
    // SAFETY: SQLite calls methods only on files `x_open` opened.
    unsafe {
        let (_, real) = parts(file);
        match methods(real).xDeviceCharacteristics {
            Some(f) => f(real),
            None => 0,
        }
    }
}

unsafe extern "C" fn x_shm_map(
    file: *mut ffi::sqlite3_file,
    page: c_int,
    page_size: c_int,
    extend: c_int,
    out: *mut *mut c_void,
) -> c_int {
    // SAFETY: SQLite calls methods only on files `x_open` opened; the shared-memory methods
    // exist from version 2 of the platform's methods on.
    unsafe {
        let (_, real) = parts(file);
        let m = methods(real);
        match m.xShmMap {
            Some(f) if m.iVersion >= 2 => f(real, page, page_size, extend, out),
            _ => ffi::SQLITE_IOERR_SHMMAP,
        }
    }
}

unsafe extern "C" fn x_shm_lock(
    file: *mut ffi::sqlite3_file,
    offset: c_int,
    n: c_int,
    flags: c_int,
) -> c_int {
    // SAFETY: as `x_shm_map`.
    unsafe {
        let (_, real) = parts(file);
        let m = methods(real);
        match m.xShmLock {
            Some(f) if m.iVersion >= 2 => f(real, offset, n, flags),
            _ => ffi::SQLITE_IOERR_SHMLOCK,
        }
    }
}

unsafe extern "C" fn x_shm_barrier(file: *mut ffi::sqlite3_file) {
    // SAFETY: as `x_shm_map`.
    unsafe {
        let (_, real) = parts(file);
        let m = methods(real);
        if let Some(f) = m.xShmBarrier
            && m.iVersion >= 2
        {
            f(real);
        }
    }
}

unsafe extern "C" fn x_shm_unmap(file: *mut ffi::sqlite3_file, delete: c_int) -> c_int {
    // SAFETY: as `x_shm_map`.
    unsafe {
        let (_, real) = parts(file);
        let m = methods(real);
        match m.xShmUnmap {
            Some(f) if m.iVersion >= 2 => f(real, delete),
            _ => ffi::SQLITE_OK,
        }
    }
}

unsafe extern "C" fn x_fetch(
    file: *mut ffi::sqlite3_file,
    offset: ffi::sqlite3_int64,
    amount: c_int,
    out: *mut *mut c_void,
) -> c_int {
    // SAFETY: SQLite calls methods only on files `x_open` opened; `out` is a valid pointer.
    unsafe {
        let (sealed, real) = parts(file);
        let m = methods(real);
        match m.xFetch {
            // A mapped page would be read as it is on disk: an encrypted file is always read
            // through `x_read` (a null page tells SQLite to).
            Some(f) if m.iVersion >= 3 && !sealed.sealed => f(real, offset, amount, out),
            _ => {
                *out = ptr::null_mut();
                ffi::SQLITE_OK
            }
        }
    }
}

unsafe extern "C" fn x_unfetch(
    file: *mut ffi::sqlite3_file,
    offset: ffi::sqlite3_int64,
    page: *mut c_void,
) -> c_int {
    // SAFETY: as `x_fetch`; an encrypted file never handed out a page.
    unsafe {
        let (sealed, real) = parts(file);
        let m = methods(real);
        match m.xUnfetch {
            Some(f) if m.iVersion >= 3 && !sealed.sealed => f(real, offset, page),
            _ => ffi::SQLITE_OK,
        }
    }
}

#[cfg(test)]
mod tests;
