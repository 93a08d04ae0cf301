//! Regenerating a committed file from the code, without a test that passes by comparing the file
//! with what it just wrote. A test that checks a committed file (a schema, a bundled asset)
//! against what the code generates rewrites it when its environment variable is set, and then
//! fails, saying what it rewrote and to run it again without the variable: only a run without
//! the variable can pass, and it compares the file with the code.

/// Whether `variable` (`UPDATE_SCHEMA`, …) asks the test to rewrite its committed files.
pub fn requested(variable: &str) -> bool {
    std::env::var_os(variable).is_some()
}

/// Ends a test that rewrote `what` because `variable` asked for it: it fails, since a comparison
/// with what it just wrote would prove nothing.
#[track_caller]
pub fn rewrote(variable: &str, what: &str) -> ! {
    panic!(
        "{variable} is set: rewrote {what} from the code, and checked nothing; \
         look at the change (git diff), then run the test again without {variable}"
    )
}
