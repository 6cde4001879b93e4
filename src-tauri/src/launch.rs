//! Which data file the app opens at start-up: the one named on the command line, the
//! practice village (the demo, 练习用), the file used last time, or none yet (the first-run
//! wizard, `commands::setup`).

use std::fs;
use std::path::{Path, PathBuf};

use tauri::Manager;

use crate::error::CommandError;
use crate::state::{AppState, LockNeeds, Locked, Upgrading};
use bangfu_core::demo::write_demo_village;
use bangfu_core::query::{self, HouseholdQuery};
use bangfu_core::store::protect::{self, Protection};
use bangfu_core::store::{DataKey, OpenOptions, RebuildProgress, Store, Unlock};

/// The practice village's file in the app-data folder: the demo, never the real data.
pub const DEMO_FILE: &str = "demo.sqlite";
const LAST_FILE_NOTE: &str = "last-data-file.txt";

/// The command line. Unknown arguments are ignored because WebKitWebDriver adds its own
/// (`--automation`) when it starts the app for end-to-end tests.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct LaunchArgs {
    /// `--db PATH`: open this data file.
    pub db: Option<PathBuf>,
    /// `--demo`: open the demo village in the app data dir.
    pub demo: bool,
    /// `--seed-demo`: with `--db`, fill an empty data file with the demo village.
    pub seed_demo: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ArgsError(pub String);

impl std::fmt::Display for ArgsError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl LaunchArgs {
    pub fn parse(args: impl IntoIterator<Item = String>) -> Result<Self, ArgsError> {
        let mut parsed = LaunchArgs::default();
        let mut args = args.into_iter();
        while let Some(arg) = args.next() {
            match arg.as_str() {
                "--db" => match args.next() {
                    Some(path) if !path.starts_with("--") => parsed.db = Some(PathBuf::from(path)),
                    _ => return Err(ArgsError("--db needs the path of a data file".into())),
                },
                "--demo" => parsed.demo = true,
                "--seed-demo" => parsed.seed_demo = true,
                _ => {}
            }
        }
        Ok(parsed)
    }
}

/// The data file to open, and whether to fill it with the demo village when it has no households.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DataFileChoice {
    pub path: PathBuf,
    pub seed_demo: bool,
    /// The practice village (练习用): shown as such and never remembered as the file to open.
    pub practice: bool,
}

impl DataFileChoice {
    /// The practice village: the demo in its own file in the app-data folder.
    pub fn practice(app_data_dir: &Path) -> Self {
        DataFileChoice {
            path: app_data_dir.join(DEMO_FILE),
            seed_demo: true,
            practice: true,
        }
    }
}

/// Decides the data file: `--db` wins, then `--demo` (the practice village), then the file
/// remembered from last time if it still exists; `None` is a first start: the window shows
/// the first-run wizard.
pub fn choose_data_file(args: &LaunchArgs, app_data_dir: &Path) -> Option<DataFileChoice> {
    if let Some(path) = &args.db {
        return Some(DataFileChoice {
            path: path.clone(),
            seed_demo: args.seed_demo,
            practice: false,
        });
    }
    if args.demo {
        return Some(DataFileChoice::practice(app_data_dir));
    }
    match fs::read_to_string(app_data_dir.join(LAST_FILE_NOTE)) {
        Ok(note) if !note.trim().is_empty() && Path::new(note.trim()).is_file() => {
            let path = PathBuf::from(note.trim());
            // Earlier versions opened (and remembered) the demo when there was no file.
            if path == app_data_dir.join(DEMO_FILE) {
                return Some(DataFileChoice::practice(app_data_dir));
            }
            Some(DataFileChoice {
                path,
                seed_demo: false,
                practice: false,
            })
        }
        _ => None,
    }
}

/// Opens the chosen file (seeding the demo village into it if asked and it is empty) and
/// remembers it for the next start. `key` is `None` only for the practice village in the clear.
pub fn open_data_file(
    choice: &DataFileChoice,
    app_data_dir: &Path,
    key: Option<&DataKey>,
    progress: &mut dyn FnMut(RebuildProgress),
) -> Result<Store, CommandError> {
    // The device registry stays in the core's default place, shared with the `bangfu` command,
    // so that opening a file from both does not look like a copied file.
    let options = OpenOptions {
        key: key.cloned(),
        ..OpenOptions::default()
    };
    // A file of an older version is rebuilt from its op log first (minutes for a county);
    // `progress` hears how far it has come, and so does the log.
    let mut store = Store::open_with_progress(&choice.path, &options, &mut |p| {
        eprintln!(
            "bangfu-desktop: rebuilding the data file after an upgrade: {} of {} rows",
            p.rows_done, p.rows_total
        );
        progress(p);
    })
    .map_err(CommandError::from_core)?;
    if choice.seed_demo && is_empty(&store)? {
        write_demo_village(&mut store).map_err(CommandError::from_core)?;
    }
    if !choice.practice {
        remember(app_data_dir, &choice.path);
    }
    // The daily backup runs beside the app on its own read-only connection, so a county-sized
    // file never delays the first screen; a failure is logged, the work goes on. The store
    // waits for it when it is dropped or shut down.
    let path = store.path().to_path_buf();
    store.start_daily_backup(move |error| {
        eprintln!("daily backup of {} failed: {error}", path.display());
    });
    Ok(store)
}

/// Applies a restore requested in 设置 → 备份 (see `bangfu_core::store::restore`) before the
/// data file is opened. Never stops the start: a request that cannot be applied is logged and
/// returned in Chinese, for the window's header (another program has the file open, say).
pub fn apply_restore_request(data_file: &Path, key: &DataKey) -> Option<String> {
    use bangfu_core::error::UserFacing;
    match bangfu_core::store::restore::apply_pending_restore(data_file, Some(key)) {
        Ok(Some(backup)) => {
            eprintln!(
                "bangfu-desktop: restored {} from {}",
                data_file.display(),
                backup.display()
            );
            None
        }
        Ok(None) => None,
        Err(error) => {
            eprintln!("bangfu-desktop: restore not applied: {error}");
            Some(error.message_zh())
        }
    }
}

/// The practice village opens without a passphrase when it is new or in the clear: it holds
/// only made-up households. (One a earlier version encrypted goes through the lock screen.)
pub fn practice_in_the_clear(choice: &DataFileChoice) -> bool {
    choice.practice && lock_needs(&choice.path) == LockNeeds::SetUp
}

/// Opens the practice village in the clear for every command; no hub sync runs on it.
pub fn open_practice_village(choice: &DataFileChoice, app_data_dir: &Path) -> AppState {
    let store = open_data_file(choice, app_data_dir, None, &mut |_| {});
    AppState::practice_village(choice.path.clone(), store)
}

/// What the lock screen must ask for this file.
pub fn lock_needs(data_file: &Path) -> LockNeeds {
    let has_key_file = protect::key_file_path(data_file).exists();
    match protect::protection_of(data_file) {
        Protection::Encrypted if has_key_file => LockNeeds::Unlock,
        Protection::Encrypted => LockNeeds::Recover,
        // A key file beside a new or plain file: set up before, not yet used.
        Protection::New | Protection::Plain if has_key_file => LockNeeds::Unlock,
        Protection::New | Protection::Plain => LockNeeds::SetUp,
    }
}

/// The data key from the passphrase scripts and tests give in `BANGFU_PASSPHRASE`: the file is
/// unlocked with it, or protected with it when it has no key file yet (the recovery code is
/// then printed once on stderr). `None` when the variable is not set: the lock screen asks.
pub fn key_from_env(data_file: &Path) -> Result<Option<DataKey>, CommandError> {
    let Some(passphrase) = protect::passphrase_from(None).ok().flatten() else {
        return Ok(None);
    };
    if lock_needs(data_file) == LockNeeds::SetUp {
        let code = protect::set_up(data_file, &passphrase).map_err(CommandError::from_core)?;
        eprintln!(
            "bangfu-desktop: 已为数据文件 {} 设置口令。恢复码（只显示这一次，请抄下保存）：{}",
            data_file.display(),
            code.as_str()
        );
    }
    protect::unlock(data_file, &Unlock::Passphrase(passphrase))
        .map(Some)
        .map_err(CommandError::from_core)
}

/// Opens the data file once its key is known: a restore asked for in 设置 → 备份 first, then a
/// file in the clear is encrypted and a file of an older version upgraded on a thread while the
/// window shows how far it has come; then the hub sync starts with the key.
pub fn open_unlocked(handle: &tauri::AppHandle, key: DataKey) {
    let state = handle.state::<AppState>();
    let Some(Locked {
        choice,
        app_data_dir,
        ..
    }) = state.unlocked(key.clone())
    else {
        return;
    };
    if let Some(warning) = apply_restore_request(&choice.path, &key) {
        state.set_restore_warning(warning);
    }
    let plain = protect::protection_of(&choice.path) == Protection::Plain;
    let pending = Store::pending_upgrade(&choice.path, (!plain).then_some(&key));
    if !plain && pending.is_none() {
        let store = open_data_file(&choice, &app_data_dir, Some(&key), &mut |_| {});
        finish_open(handle, store, key);
        return;
    }
    let latest = bangfu_core::store::migrate::latest_version();
    state.start_upgrading(Upgrading {
        from: pending.map_or(latest, |p| p.from),
        to: pending.map_or(latest, |p| p.to),
        rows_done: 0,
        rows_total: 0,
        encrypting: plain,
    });
    let handle = handle.clone();
    std::thread::spawn(move || {
        let state = handle.state::<AppState>();
        let store = (|| {
            if plain {
                bangfu_core::store::encrypt::encrypt_in_place(&choice.path, &key, &|d, t| {
                    state.upgrade_progress(d, t, true)
                })
                .map_err(CommandError::from_core)?;
            }
            open_data_file(&choice, &app_data_dir, Some(&key), &mut |p| {
                state.upgrade_progress(p.rows_done, p.rows_total, false)
            })
        })();
        finish_open(&handle, store, key);
    });
}

fn finish_open(handle: &tauri::AppHandle, store: Result<Store, CommandError>, key: DataKey) {
    let state = handle.state::<AppState>();
    let data_file = store.as_ref().ok().map(|s| s.path().to_path_buf());
    state.upgraded(store);
    // The practice village (one an earlier version encrypted comes through the lock screen)
    // never syncs: the hub sync starts on the real file the wizard makes after it.
    if state.practice() {
        return;
    }
    handle.manage(crate::hub_sync::start_for_app(handle, data_file, Some(key)));
}

fn is_empty(store: &Store) -> Result<bool, CommandError> {
    let probe = HouseholdQuery {
        limit: 1,
        ..HouseholdQuery::default()
    };
    let page = query::households(store, &probe).map_err(CommandError::from_core)?;
    Ok(page.total == 0)
}

/// Not remembering the file only costs the user a choice at the next start, so a failure here
/// is logged and otherwise ignored.
pub fn remember(app_data_dir: &Path, data_file: &Path) {
    let absolute = fs::canonicalize(data_file).unwrap_or_else(|_| data_file.to_path_buf());
    let written = fs::create_dir_all(app_data_dir).and_then(|()| {
        fs::write(
            app_data_dir.join(LAST_FILE_NOTE),
            absolute.to_string_lossy().as_bytes(),
        )
    });
    if let Err(error) = written {
        eprintln!("bangfu-desktop: could not remember the data file: {error}");
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn args(line: &str) -> Result<LaunchArgs, ArgsError> {
        LaunchArgs::parse(line.split_whitespace().map(String::from))
    }

    #[test]
    fn parses_the_command_line() {
        let cases: &[(&str, Result<LaunchArgs, ArgsError>)] = &[
            ("", Ok(LaunchArgs::default())),
            (
                "--demo",
                Ok(LaunchArgs {
                    demo: true,
                    ..LaunchArgs::default()
                }),
            ),
            (
                "--automation --db /tmp/a.sqlite --seed-demo",
                Ok(LaunchArgs {
                    db: Some(PathBuf::from("/tmp/a.sqlite")),
                    seed_demo: true,
                    ..LaunchArgs::default()
                }),
            ),
            (
                "--db",
                Err(ArgsError("--db needs the path of a data file".into())),
            ),
            (
                "--db --demo",
                Err(ArgsError("--db needs the path of a data file".into())),
            ),
        ];
        for (line, expected) in cases {
            assert_eq!(&args(line), expected, "command line {line:?}");
        }
    }

    #[test]
    fn chooses_the_data_file() {
        let dir = tempfile::tempdir().unwrap();
        let app_dir = dir.path();
        let demo = Some(DataFileChoice::practice(app_dir));
        let kept = app_dir.join("village.sqlite");
        let gone = app_dir.join("moved-away.sqlite");
        let old_demo = app_dir.join(DEMO_FILE);
        fs::write(&kept, b"").unwrap();
        fs::write(&old_demo, b"").unwrap();

        let cases: &[(&str, Option<&Path>, Option<DataFileChoice>)] = &[
            // A first start: no file yet, the wizard.
            ("", None, None),
            (
                "",
                Some(&kept),
                Some(DataFileChoice {
                    path: kept.clone(),
                    seed_demo: false,
                    practice: false,
                }),
            ),
            ("", Some(&gone), None),
            // Remembered by an earlier version: still the practice village, marked as such.
            ("", Some(&old_demo), demo.clone()),
            ("--demo", Some(&kept), demo.clone()),
            (
                "--db /data/x.sqlite",
                Some(&kept),
                Some(DataFileChoice {
                    path: "/data/x.sqlite".into(),
                    seed_demo: false,
                    practice: false,
                }),
            ),
            (
                "--db /data/x.sqlite --seed-demo",
                None,
                Some(DataFileChoice {
                    path: "/data/x.sqlite".into(),
                    seed_demo: true,
                    practice: false,
                }),
            ),
        ];
        for (line, remembered, expected) in cases {
            let note = app_dir.join(LAST_FILE_NOTE);
            match remembered {
                Some(path) => fs::write(&note, path.to_string_lossy().as_bytes()).unwrap(),
                None => drop(fs::remove_file(&note)),
            }
            let chosen = choose_data_file(&args(line).unwrap(), app_dir);
            assert_eq!(
                &chosen, expected,
                "command line {line:?}, remembered {remembered:?}"
            );
        }
    }
}
