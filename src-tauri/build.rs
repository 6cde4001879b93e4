//! Generates the Tauri context (config, capabilities, embedded UI) at compile time.

fn main() {
    // The UI bundle is embedded by `generate_context!`; without this line a rebuilt ui/dist
    // left the previous bundle inside an otherwise up-to-date binary.
    println!("cargo:rerun-if-changed=../ui/dist");
    tauri_build::build();
}
