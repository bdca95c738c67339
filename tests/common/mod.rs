//! Shared by the tests that need a display (Xvfb) or a graphics adapter (lavapipe).

/// True when this test should be skipped: `GANSCOPE_SKIP_DISPLAY_TESTS` is set, outside CI
/// (in CI nothing is skipped). Skipping is said out loud, never a silent pass.
pub fn skip_display_test(what: &str) -> bool {
    let skip = std::env::var_os("GANSCOPE_SKIP_DISPLAY_TESTS").is_some() && std::env::var_os("CI").is_none();
    if skip {
        println!("SKIPPED {what}: GANSCOPE_SKIP_DISPLAY_TESTS is set");
    }
    skip
}
