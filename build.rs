//! Build script: decides whether this build has sound output.
//!
//! cpal is an optional dependency on Linux (it needs ALSA headers) and a plain one elsewhere, so
//! "has sound" is `feature = "sound"` or "not Linux". Expressing that once here, as the cfg
//! `sound_output`, keeps the rest of the code from repeating the compound condition.

fn main() {
    // It reads nothing from the tree: without this, cargo reruns it (and rebuilds auscult) after
    // any change to any file in the package, such as a trace saved into the checkout.
    println!("cargo::rerun-if-changed=build.rs");
    println!("cargo::rustc-check-cfg=cfg(sound_output)");
    let target_os = std::env::var("CARGO_CFG_TARGET_OS").unwrap_or_default();
    if std::env::var_os("CARGO_FEATURE_SOUND").is_some() || target_os != "linux" {
        println!("cargo::rustc-cfg=sound_output");
    }
}
