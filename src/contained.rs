//! Calls into libraries that panic on some malformed input instead of returning an error
//! (symphonia's decoders on a damaged frame, tokenizers on a `tokenizer.json` of the wrong shape):
//! the panic is caught, kept off the terminal, and handed back as the text of an error, so bad
//! input gets one line naming the file like any other.

use std::panic::{catch_unwind, AssertUnwindSafe};

/// Runs `f`; a panic inside it comes back as `Err` with its message. While `f` runs the panic
/// hook is silenced (process-wide: a panic on another thread meanwhile is not printed either).
pub fn without_panics<T>(f: impl FnOnce() -> T) -> Result<T, String> {
    let previous_hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(|_| {}));
    let outcome = catch_unwind(AssertUnwindSafe(f));
    std::panic::set_hook(previous_hook);
    outcome.map_err(|panic| {
        panic
            .downcast_ref::<String>()
            .map(String::as_str)
            .or_else(|| panic.downcast_ref::<&str>().copied())
            .unwrap_or("a panic without a message")
            .to_owned()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_panic_becomes_its_message_and_a_value_passes_through() {
        assert_eq!(without_panics(|| 7), Ok(7));
        let message = without_panics(|| -> u8 { panic!("bad frame {}", 3) }).unwrap_err();
        assert_eq!(message, "bad frame 3");
        // The hook is back: catch_unwind still sees later panics normally.
        assert!(std::panic::catch_unwind(|| panic!("x")).is_err());
    }
}
