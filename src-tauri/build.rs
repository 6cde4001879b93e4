//! Generates the Tauri context (config, capabilities, embedded UI) at compile time.

fn main() {
    tauri_build::build();
}
