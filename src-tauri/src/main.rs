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

use tauri::Manager;

use crate::launch::{
    LaunchArgs, choose_data_file, key_from_env, lock_needs, open_practice_village, open_unlocked,
    practice_in_the_clear,
};
use crate::state::{AppState, Locked};

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
                // (commands::setup) make the file, protect it and start the hub sync on it.
                app.manage(AppState::first_run());
                app.manage(commands::ledger::PendingImport::default());
                return Ok(());
            };
            app.manage(commands::ledger::PendingImport::default());
            if practice_in_the_clear(&choice) {
                // The practice village: made-up households in the clear, no passphrase, no hub.
                app.manage(open_practice_village(&choice, &app_data_dir));
                return Ok(());
            }
            // Nothing is read from the data file before it is unlocked: the lock screen asks
            // for the passphrase (or sets one up), unless a script gave it in BANGFU_PASSPHRASE.
            let needs = lock_needs(&choice.path);
            app.manage(AppState::locked(Locked {
                needs,
                choice: choice.clone(),
                app_data_dir,
            }));
            match key_from_env(&choice.path) {
                Ok(Some(key)) => open_unlocked(app.handle(), key),
                Ok(None) => {}
                Err(error) => app.state::<AppState>().upgraded(Err(error)),
            }
            Ok(())
        })
        .invoke_handler(tauri::generate_handler![
            commands::files::removable_drive_list,
            commands::files::reveal_in_folder,
            commands::files::last_folder,
            commands::files::remember_folder,
            commands::app_info::app_info,
            commands::people::signed_in,
            commands::people::sign_in,
            commands::people::sign_out,
            commands::people::people_list,
            commands::people::person_add,
            commands::people::person_disable,
            commands::people::person_reset_pin,
            commands::people::audit_log,
            commands::protect::set_up_protection,
            commands::protect::unlock_data_file,
            commands::protect::change_passphrase,
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
            commands::household_page::field_history,
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
            commands::policies::household_policies,
            commands::policies::household_measures,
            commands::policies::policies_in_force,
            commands::policies::policy_measure_add,
            commands::policies::payment_add,
            commands::policies::training_add,
            commands::policies::household_relocation,
            commands::policies::relocation_stage_add,
            commands::policies::household_move,
            commands::policies::relocation_site_village_set,
            commands::archive::archive_list,
            commands::team::team_list,
            commands::team::team_add,
            commands::team::team_end,
            commands::devices::devices_list,
            commands::devices::device_confirm,
            commands::devices::device_confirm_county,
            commands::devices::device_merge_held,
            commands::devices::device_drop_held,
            commands::devices::device_set_village,
            commands::devices::device_unconfirm,
            commands::devices::devices_require_confirmation,
            commands::team::team_member_sheet,
            commands::team::team_set,
            commands::archive::archive_records,
            commands::archive::archive_add,
            commands::archive::archive_save,
            commands::archive::archive_remove,
            commands::archive::archive_list_sheet,
            commands::standards::standards_list,
            commands::village::village_list,
            commands::village::village_sheet_load,
            commands::village::village_sheet_save,
            commands::standards::standard_set,
            commands::standards::standard_clear,
            commands::standards::county_settings_get,
            commands::standards::first_filing_year_set,
            commands::standards::first_filing_year_clear,
            commands::exit::exit_trail,
            commands::exit::exit_act,
            commands::exit::exit_act_batch,
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
        .build(tauri::generate_context!());
    match result {
        Ok(app) => {
            app.run(|handle, event| {
                // The store's checkpoint thread ends before the process does.
                if let tauri::RunEvent::Exit = event
                    && let Some(state) = handle.try_state::<AppState>()
                {
                    state.shutdown();
                }
            });
            ExitCode::SUCCESS
        }
        Err(error) => {
            eprintln!("bangfu-desktop: {error}");
            ExitCode::FAILURE
        }
    }
}
