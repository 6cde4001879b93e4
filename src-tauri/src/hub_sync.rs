//! Background sync with the county hub: a thread of its own, on its own connection to the data
//! file, that calls `HubClient::sync_once` when this copy is enrolled.
//!
//! It never holds the app's store lock: the app and this thread are two SQLite connections on
//! the same WAL file, so the app's reads never wait, and its writes wait at most for one pull
//! page's short transaction (`apply_remote`, `PAGE_OPS` ops) under the store's busy timeout.
//!
//! When: at start, then every `period`; `after_change` after a local change is seen (the own
//! ops waiting to go up grow); at once when asked (立即同步, enrolment). An unreachable hub is
//! retried after `first_retry`, doubling up to `max_retry`.

use std::path::PathBuf;
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use bangfu_core::UserFacing;
use bangfu_core::store::{OpenOptions, Store};
use bangfu_hub::client::{ClientConfig, HubClient, HubError, SyncReport, status};
use serde::Serialize;

/// Event names the window listens to.
pub const STATUS_EVENT: &str = "hub-status";
/// Sent after a sync brought data this copy did not hold.
pub const DATA_EVENT: &str = "hub-data";

/// Ops per pull page: each page is one write transaction, kept short so a save typed meanwhile
/// waits a fraction of a second at most.
pub const PAGE_OPS: usize = 1_000;

#[derive(Debug, Clone, Copy)]
pub struct Timing {
    pub period: Duration,
    pub after_change: Duration,
    pub first_retry: Duration,
    pub max_retry: Duration,
    /// How often the thread looks for local changes (a cheap read).
    pub poll: Duration,
    /// The longest one request to the hub may take.
    pub request_timeout: Duration,
}

impl Default for Timing {
    fn default() -> Self {
        Timing {
            period: Duration::from_secs(60),
            after_change: Duration::from_secs(3),
            first_retry: Duration::from_secs(5),
            max_retry: Duration::from_secs(300),
            poll: Duration::from_secs(2),
            request_timeout: Duration::from_secs(30),
        }
    }
}

/// When the next sync is due. Pure: the thread feeds it what happened and the time.
#[derive(Debug, Clone)]
pub struct Schedule {
    timing: Timing,
    failures: u32,
    due: Instant,
}

impl Schedule {
    /// The first sync is due at once.
    pub fn new(timing: Timing, now: Instant) -> Schedule {
        Schedule {
            timing,
            failures: 0,
            due: now,
        }
    }

    pub fn is_due(&self, now: Instant) -> bool {
        now >= self.due
    }

    pub fn wait(&self, now: Instant) -> Duration {
        self.due.saturating_duration_since(now)
    }

    #[cfg(test)]
    fn failures(&self) -> u32 {
        self.failures
    }

    pub fn succeeded(&mut self, now: Instant) {
        self.failures = 0;
        self.due = now + self.timing.period;
    }

    pub fn failed(&mut self, now: Instant) {
        self.failures = self.failures.saturating_add(1);
        self.due = now + self.retry_delay();
    }

    /// Not enrolled: nothing to do, look again a period later.
    pub fn idle(&mut self, now: Instant) {
        self.failures = 0;
        self.due = now + self.timing.period;
    }

    /// A local change: sync soon, unless the hub is unreachable (then the backoff decides).
    pub fn local_change(&mut self, now: Instant) {
        if self.failures == 0 {
            self.due = self.due.min(now + self.timing.after_change);
        }
    }

    /// 立即同步: now, whatever the backoff said.
    pub fn asked(&mut self, now: Instant) {
        self.due = now;
    }

    fn retry_delay(&self) -> Duration {
        let doublings = self.failures.saturating_sub(1).min(16);
        (self.timing.first_retry * 2u32.pow(doublings)).min(self.timing.max_retry)
    }
}

/// What the thread knows about the link, for the status line.
#[derive(ts_rs::TS, Debug, Clone, Default, Serialize)]
pub struct LinkState {
    /// Reached the hub at the last try; `None` before any try (or when not enrolled).
    pub online: Option<bool>,
    pub syncing: bool,
    /// Why the last try failed, in Chinese; `None` after a success.
    pub error: Option<String>,
    pub error_kind: Option<&'static str>,
    pub last_report: Option<SyncReport>,
    /// Tries that failed in a row.
    pub failures: u32,
}

impl LinkState {
    /// Takes in the outcome of one sync.
    pub fn record(&mut self, outcome: &Result<SyncReport, HubError>) {
        self.syncing = false;
        match outcome {
            Ok(report) => {
                self.online = Some(true);
                self.error = None;
                self.error_kind = None;
                self.last_report = Some(report.clone());
                self.failures = 0;
            }
            Err(error) => {
                // A refusal is an answer: the hub is there.
                self.online = Some(!matches!(error, HubError::Unreachable(_)));
                self.error = Some(error.message_zh());
                self.error_kind = Some(error.kind());
                self.failures += 1;
            }
        }
    }
}

fn lock(shared: &(Mutex<Shared>, Condvar)) -> MutexGuard<'_, Shared> {
    // The state is plain values written whole: a panic elsewhere cannot leave it half-set.
    shared.0.lock().unwrap_or_else(PoisonError::into_inner)
}

#[derive(Debug, Default)]
struct Shared {
    link: LinkState,
    asked: bool,
    stop: bool,
}

/// The handle the commands hold: read the link state, ask for a sync now.
#[derive(Debug, Clone)]
pub struct HubSync {
    shared: Arc<(Mutex<Shared>, Condvar)>,
}

/// Tells the window something changed: (event name).
pub type Notify = Arc<dyn Fn(&'static str) + Send + Sync>;

impl HubSync {
    /// Starts the thread on the data file at `path`. Open the app's own store first: this
    /// connection then finds the identity already registered for this path.
    pub fn start(path: PathBuf, options: OpenOptions, timing: Timing, notify: Notify) -> HubSync {
        let sync = HubSync::detached();
        let shared = Arc::clone(&sync.shared);
        let spawned = std::thread::Builder::new()
            .name("hub-sync".into())
            .spawn(move || Worker::new(path, options, timing, shared, notify).run());
        if let Err(error) = spawned {
            eprintln!("bangfu-desktop: cannot start the hub sync thread: {error}");
        }
        sync
    }

    /// A handle with no thread behind it, for a data file that could not be opened.
    pub fn detached() -> HubSync {
        HubSync {
            shared: Arc::new((Mutex::new(Shared::default()), Condvar::new())),
        }
    }

    fn lock(&self) -> MutexGuard<'_, Shared> {
        lock(&self.shared)
    }

    pub fn link(&self) -> LinkState {
        self.lock().link.clone()
    }

    /// Syncs as soon as the thread is free.
    pub fn sync_now(&self) {
        self.lock().asked = true;
        self.shared.1.notify_all();
    }

    /// Forgets what was learnt of the link (after the hub was forgotten or changed).
    pub fn reset(&self) {
        self.lock().link = LinkState::default();
    }

    #[cfg(test)]
    fn stop(&self) {
        self.lock().stop = true;
        self.shared.1.notify_all();
    }
}

/// Starts the sync of the app's open data file, telling the window through Tauri events.
pub fn start_for_app(
    app: &tauri::AppHandle,
    data_file: Option<PathBuf>,
    key: Option<bangfu_core::store::DataKey>,
) -> HubSync {
    use tauri::Emitter;
    let Some(path) = data_file else {
        return HubSync::detached();
    };
    let handle = app.clone();
    let notify: Notify = Arc::new(move |event| {
        if let Err(error) = handle.emit(event, ()) {
            eprintln!("bangfu-desktop: cannot send {event}: {error}");
        }
    });
    // The same options as the app's own open (launch.rs), so the same device registry.
    let options = OpenOptions {
        key,
        ..OpenOptions::default()
    };
    HubSync::start(path, options, Timing::default(), notify)
}

struct Worker {
    path: PathBuf,
    options: OpenOptions,
    timing: Timing,
    shared: Arc<(Mutex<Shared>, Condvar)>,
    notify: Notify,
    client: HubClient,
    store: Option<Store>,
    schedule: Schedule,
    /// The own ops waiting to go up at the last look, to see local changes.
    waiting: Option<i64>,
}

impl Worker {
    fn new(
        path: PathBuf,
        options: OpenOptions,
        timing: Timing,
        shared: Arc<(Mutex<Shared>, Condvar)>,
        notify: Notify,
    ) -> Worker {
        let client = HubClient::new(ClientConfig {
            timeout: timing.request_timeout,
            page_ops: PAGE_OPS,
            // A new laptop's first sync takes its village's current state, not every op since
            // the county began.
            ..ClientConfig::laptop()
        });
        Worker {
            path,
            options,
            timing,
            shared,
            notify,
            client,
            store: None,
            schedule: Schedule::new(timing, Instant::now()),
            waiting: None,
        }
    }

    fn run(mut self) {
        let pair = Arc::clone(&self.shared);
        loop {
            {
                let mut shared = lock(&pair);
                let nap = self.schedule.wait(Instant::now()).min(self.timing.poll);
                if !shared.asked && !shared.stop && !nap.is_zero() {
                    shared = pair
                        .1
                        .wait_timeout(shared, nap)
                        .unwrap_or_else(PoisonError::into_inner)
                        .0;
                }
                if shared.stop {
                    return;
                }
                if std::mem::take(&mut shared.asked) {
                    self.schedule.asked(Instant::now());
                }
            }
            self.step();
        }
    }

    /// One look: notice local changes, and sync if due.
    fn step(&mut self) {
        if self.store.is_none() {
            match Store::open(&self.path, &self.options) {
                Ok(mut store) => {
                    // The app's own store checkpoints the file on its thread (it looks at
                    // the log every second, whoever wrote it); this connection needs none,
                    // and a thread that is never joined (this one, at exit) holds none.
                    store.shutdown();
                    self.store = Some(store);
                }
                Err(error) => {
                    eprintln!("bangfu-desktop: hub sync cannot open the data file: {error}");
                    self.schedule.failed(Instant::now());
                    return;
                }
            }
        }
        let Some(store) = self.store.as_mut() else {
            return;
        };
        let now = Instant::now();
        let local = match status(store) {
            Ok(local) => local,
            Err(error) => {
                eprintln!("bangfu-desktop: hub sync cannot read the link: {error}");
                self.store = None;
                self.schedule.failed(now);
                return;
            }
        };
        if self.waiting != Some(local.ops_waiting) {
            if self
                .waiting
                .is_some_and(|before| local.ops_waiting > before)
            {
                self.schedule.local_change(now);
            }
            self.waiting = Some(local.ops_waiting);
            (self.notify)(STATUS_EVENT);
        }
        if !local.enrolled {
            self.schedule.idle(now);
            return;
        }
        if !self.schedule.is_due(now) {
            return;
        }
        lock(&self.shared).link.syncing = true;
        (self.notify)(STATUS_EVENT);
        let outcome = self.client.sync_once(store);
        let now = Instant::now();
        match &outcome {
            Ok(_) => self.schedule.succeeded(now),
            Err(HubError::NotEnrolled) => self.schedule.idle(now),
            Err(error) => {
                eprintln!("bangfu-desktop: hub sync: {}: {error}", error.kind());
                self.schedule.failed(now);
            }
        }
        let applied = match &outcome {
            Ok(report) => report.applied,
            Err(error) => error.report().map_or(0, |r| r.applied),
        };
        lock(&self.shared).link.record(&outcome);
        self.waiting = status(store).ok().map(|s| s.ops_waiting);
        (self.notify)(STATUS_EVENT);
        if applied > 0 {
            (self.notify)(DATA_EVENT);
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn timing() -> Timing {
        Timing {
            period: Duration::from_secs(60),
            after_change: Duration::from_secs(3),
            first_retry: Duration::from_secs(5),
            max_retry: Duration::from_secs(300),
            poll: Duration::from_millis(50),
            request_timeout: Duration::from_secs(10),
        }
    }

    #[test]
    fn the_schedule_backs_off_while_the_hub_is_unreachable_and_resets_on_success() {
        let t0 = Instant::now();
        let mut s = Schedule::new(timing(), t0);
        assert!(s.is_due(t0), "the first sync is at once");
        let secs = |s: &Schedule, now| s.wait(now).as_secs();

        let delays: Vec<u64> = (0..9)
            .map(|_| {
                s.failed(t0);
                secs(&s, t0)
            })
            .collect();
        assert_eq!(delays, [5, 10, 20, 40, 80, 160, 300, 300, 300]);
        assert_eq!(s.failures(), 9);

        // Offline, a local change does not hammer the hub; 立即同步 does try at once.
        s.local_change(t0);
        assert_eq!(secs(&s, t0), 300);
        s.asked(t0);
        assert!(s.is_due(t0));

        s.succeeded(t0);
        assert_eq!((s.failures(), secs(&s, t0)), (0, 60));
        // Online, a local change brings the next sync forward, never back.
        let later = t0 + Duration::from_secs(58);
        s.local_change(later);
        assert_eq!(s.wait(later).as_secs(), 2);
        s.local_change(t0 + Duration::from_secs(59));
        assert_eq!(s.wait(later).as_secs(), 2);
        s.failed(later);
        assert_eq!(
            s.wait(later).as_secs(),
            5,
            "a failure after success starts from the first retry"
        );
    }

    #[test]
    fn the_link_state_says_offline_only_when_the_hub_was_not_reached() {
        let mut link = LinkState::default();
        assert_eq!(link.online, None);
        link.record(&Err(HubError::Unreachable("connection refused".into())));
        assert_eq!(link.online, Some(false));
        assert_eq!(link.error_kind, Some("unreachable"));
        assert!(
            link.error
                .as_deref()
                .unwrap()
                .contains("无法连接县同步中心")
        );
        link.record(&Err(HubError::Unauthorized));
        assert_eq!((link.online, link.failures), (Some(true), 2));
        assert!(link.error.as_deref().unwrap().contains("同步凭据"));
        link.record(&Ok(SyncReport {
            pushed: 3,
            ..SyncReport::default()
        }));
        assert_eq!(
            (link.online, link.failures, link.error.clone()),
            (Some(true), 0, None)
        );
        assert_eq!(link.last_report.as_ref().map(|r| r.pushed), Some(3));
    }

    /// A "hub" that accepts connections and never answers: a sync hangs until its timeout.
    fn silent_hub() -> (std::net::TcpListener, String) {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        (listener, url)
    }

    fn wait_until(what: &str, mut done: impl FnMut() -> bool) {
        let start = Instant::now();
        while !done() {
            assert!(
                start.elapsed() < Duration::from_secs(20),
                "waited too long for {what}"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    #[test]
    fn the_app_keeps_writing_while_a_sync_hangs_and_an_unreachable_hub_reads_offline() {
        let dir = tempfile::tempdir().unwrap();
        // The device registry goes to this test's own folder.
        let options = OpenOptions {
            identity_dir: Some(dir.path().join("registry")),
            ..OpenOptions::default()
        };
        let path = dir.path().join("village.sqlite");
        let app = Store::open(&path, &options).unwrap();
        let (listener, url) = silent_hub();
        app.set_hub_link(&url, "token", "530826103201").unwrap();

        let events = Arc::new(Mutex::new(Vec::<&'static str>::new()));
        let seen = Arc::clone(&events);
        let notify: Notify = Arc::new(move |e| seen.lock().unwrap().push(e));
        let sync = HubSync::start(app.path().to_path_buf(), options.clone(), timing(), notify);
        wait_until("the sync to start", || sync.link().syncing);

        // While the thread waits on the hub, the app writes and reads on its own connection.
        let started = Instant::now();
        for i in 0..20 {
            app.save_draft(&format!("household:{i}"), "草稿", "{}")
                .unwrap();
        }
        assert_eq!(app.drafts().unwrap().len(), 20);
        let took = started.elapsed();
        assert!(sync.link().syncing, "the sync is still waiting on the hub");
        assert!(took < timing().request_timeout, "20 saves took {took:?}");

        // The hub goes away: the hanging request fails, then every retry finds no one.
        drop(listener);
        wait_until("offline", || sync.link().online == Some(false));
        let link = sync.link();
        assert!(!link.syncing);
        assert_eq!(link.error_kind, Some("unreachable"));
        assert!(events.lock().unwrap().contains(&STATUS_EVENT));
        assert!(!events.lock().unwrap().contains(&DATA_EVENT));
        sync.stop();

        // The sync's second connection did not make the file look copied.
        let id = app.device().id;
        drop(app);
        let again = Store::open(&path, &options).unwrap();
        assert_eq!((again.device().id, again.identity_change()), (id, None));
    }
}
