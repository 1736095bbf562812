//! Rebuilds the crate when a migration changes: `sqlx::migrate!` embeds them at compile time,
//! and Cargo would not otherwise notice an edited or added SQL file.
fn main() {
    println!("cargo:rerun-if-changed=migrations");
}
