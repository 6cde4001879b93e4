//! Entry point of the desktop app: picks the data file, opens it, and serves the commands.

// Keeps a console window from opening next to the app on Windows release builds.
#![cfg_attr(not(debug_assertions), windows_subsystem = "windows")]

#[cfg(test)]
mod bindings;
mod commands;
mod error;
mod hub_sync;
mod launch;
mod state;

use std::process::ExitCode;

use bangfu_core::store::Store;
use tauri::Manager;

use crate::launch::{
    DataFileChoice, LaunchArgs, apply_restore_request, choose_data_file, open_data_file,
};
use crate::state::AppState;

/// A township's merge allocates and frees a few small values per op; glibc's allocator spent
/// about a tenth of a county merge on them (the web view and GTK keep the system allocator).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    let args = match LaunchArgs::parse(std::env::args().skip(1)) {
        Ok(args) => args,
        Err(error) => {
            eprintln!(
                "bangfu-desktop: {error}\nusage: bangfu-desktop [--db PATH [--seed-demo]] [--demo]"
            );
            return ExitCode::from(2);
        }
    };
    let result = tauri::Builder::default()
        .plugin(tauri_plugin_opener::init())
        .plugin(tauri_plugin_dialog::init())
        .manage(commands::cards::CancelledJobs::default())
        .setup(move |app| {
            let app_data_dir = app.path().app_data_dir()?;
            let Some(choice) = choose_data_file(&args, &app_data_dir) else {
                // A first start: the window shows the first-run wizard, whose commands
                // (commands::setup) open the file it makes and start the hub sync on it.
                app.manage(AppState::first_run());
                app.manage(commands::ledger::PendingImport::default());
                return Ok(());
            };
            // A restore asked for in 设置 → 备份 is applied before anything opens the file; a
            // request that cannot be applied is logged and dropped, and the start goes on.
            apply_restore_request(&choice.path);
            app.manage(commands::ledger::PendingImport::default());
            if let Some(pending) = Store::pending_upgrade(&choice.path) {
                // A file of an older version is upgraded on a thread (minutes for a county)
                // while the window shows how far it has come; the hub sync starts after.
                app.manage(
                    AppState::upgrading(choice.path.clone(), pending)
                        .with_practice(choice.practice),
                );
                let handle = app.handle().clone();
                std::thread::spawn(move || upgrade_then_open(&handle, &choice, &app_data_dir));
                return Ok(());
            }
            let store = open_data_file(&choice, &app_data_dir, &mut |_| {});
            let device_name = match &store {
                Ok(store) => store.device().name.clone(),
                Err(_) => String::new(),
            };
            let data_file = store.as_ref().ok().map(|s| s.path().to_path_buf());
            app.manage(
                AppState::new(choice.path, device_name, store).with_practice(choice.practice),
            );
            app.manage(hub_sync::start_for_app(app.handle(), data_file));
            Ok(())
        })
        .invoke_handler(tauri::generate_handler![
            commands::files::removable_drive_list,
            commands::files::reveal_in_folder,
            commands::files::last_folder,
            commands::files::remember_folder,
            commands::app_info::app_info,
            commands::setup::setup_defaults,
            commands::setup::finish_setup,
            commands::setup::open_practice,
            commands::setup::leave_practice,
            commands::code_lists::code_lists,
            commands::code_lists::catalog,
            commands::code_lists::exit_vocabulary,
            commands::code_lists::ledger_titles,
            commands::households::list_households,
            commands::village_groups::village_groups,
            commands::household_page::household_file,
            commands::household_page::household_page,
            commands::household_page::household_changed_since,
            commands::household_page::review_household,
            commands::household_page::file_household,
            commands::household_page::villages,
            commands::household_page::helpers,
            commands::drafts::save_draft,
            commands::drafts::drafts,
            commands::drafts::discard_draft,
            commands::overview::village_overview,
            commands::overview::work_year_choices,
            commands::overview::data_quality_items,
            commands::sync::export_changes,
            commands::sync::changeset_files,
            commands::sync::import_changes,
            commands::sync::review_queue,
            commands::sync::resolve_review_item,
            commands::exit::exit_evaluation,
            commands::exit::exit_trail,
            commands::exit::exit_act,
            commands::exit::exit_progress,
            commands::exit::exit_document_path,
            commands::exit::exit_save_pdf,
            commands::exit::exit_print,
            commands::cards::card_preview,
            commands::cards::printers,
            commands::cards::matching_households,
            commands::cards::cards_pdf,
            commands::cards::cancel_cards,
            commands::cards::visits_sheet,
            commands::cadres::file_helper,
            commands::hub::hub_status,
            commands::hub::rename_device,
            commands::hub::enrol_hub,
            commands::hub::forget_hub,
            commands::hub::sync_now,
            commands::backup::backups,
            commands::backup::backup_now,
            commands::backup::restore_from_backup,
            commands::backup::backup_to_media,
            commands::backup::media_backups,
            commands::backup::restore_from_media,
            commands::update::app_version,
            commands::update::update_from_folder,
            commands::update::update_from_hub,
            commands::ledger::export_ledger,
            commands::ledger::preview_import,
            commands::ledger::import_roll,
            commands::report::scope_stats,
            commands::report::scope_exit_readiness,
            commands::report::export_scope_report,
        ])
        .run(tauri::generate_context!());
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("bangfu-desktop: {error}");
            ExitCode::FAILURE
        }
    }
}

/// Opens a file that needs an upgrade, telling the window's state how far it has come (the
/// window asks `app_info` until the upgrade is gone); then hands the store to the commands and
/// starts the hub sync.
fn upgrade_then_open(
    handle: &tauri::AppHandle,
    choice: &DataFileChoice,
    app_data_dir: &std::path::Path,
) {
    let state = handle.state::<AppState>();
    let store = open_data_file(choice, app_data_dir, &mut |p| {
        state.upgrade_progress(p.rows_done, p.rows_total);
    });
    let data_file = store.as_ref().ok().map(|s| s.path().to_path_buf());
    state.upgraded(store);
    handle.manage(hub_sync::start_for_app(handle, data_file));
}
