//! Compiles libsoxr (libsoxr/, the C source of libsoxr 0.1.3) with `cc` into a static library.
//!
//! libsoxr's own build is CMake: it writes `soxr-config.h` from what it finds on the machine and
//! compiles the engines that the target supports. This script does the same for the one
//! configuration auscult needs, without CMake:
//!
//! - `cr32` (plain C, Ooura's FFT) and `vr32`, on every target;
//! - `cr32s` (SSE, pffft), on x86_64 only. Every x86_64 CPU has SSE and SSE2, so these files need
//!   no extra compiler flag, and libsoxr's runtime choice between `cr32` and `cr32s`
//!   (`should_use_simd32` in soxr.c: `true` on x86_64, or what `SOXR_USE_SIMD`/`SOXR_USE_SIMD32`
//!   in the environment say) is kept as it is. Elsewhere libsoxr 0.1.3's pffft has no vector
//!   path (its NEON code is for 32-bit ARM only), so other targets get the plain engine;
//! - no `cr64`/`cr64s` (the AVX double-precision engine, for precision above 20 bits): auscult
//!   resamples at HQ (20 bits), which is a `cr32` engine, and leaving AVX out means no code in
//!   the library needs more than the x86_64 baseline.
//!
//! The generated `soxr-config.h` goes into OUT_DIR, which is on the include path; libsoxr/ has
//! none, so its sources' `#include "soxr-config.h"` finds the generated one.

use std::env;
use std::fs;
use std::path::PathBuf;

/// The sources of every build (those that the soxr-sys crate compiles), in libsoxr/.
const COMMON: &[&str] = &[
    "soxr.c",
    "data-io.c",
    "dbesi0.c",
    "filter.c",
    "cr.c",
    "cr32.c",
    "fft4g32.c",
    "fft4g.c",
    "fft4g64.c",
    "vr32.c",
];

/// The SIMD engine: the constant-rate core with vector loops, pffft and its helpers.
const SIMD32: &[&str] = &["cr32s.c", "pffft32s.c", "util32s.c"];

fn main() {
    let dir = PathBuf::from(env::var_os("CARGO_MANIFEST_DIR").expect("CARGO_MANIFEST_DIR"));
    let out = PathBuf::from(env::var_os("OUT_DIR").expect("OUT_DIR"));
    let source = dir.join("libsoxr");
    let arch = env::var("CARGO_CFG_TARGET_ARCH").unwrap_or_default();
    let target_os = env::var("CARGO_CFG_TARGET_OS").unwrap_or_default();
    let big_endian = env::var("CARGO_CFG_TARGET_ENDIAN").as_deref() == Ok("big");
    let simd32 = arch == "x86_64";

    println!("cargo::rerun-if-changed=build.rs");
    println!("cargo::rerun-if-changed=libsoxr");

    // libsoxr's soxr-config.h.in with CMake's answers for this target (WITH_PFFFT goes with
    // WITH_CR32S there: pffft is the SIMD engine's FFT).
    let config = format!(
        "/* Written by soxr-simd-sys's build.rs in place of libsoxr's CMake-generated one. */\n\
         #if !defined soxr_config_included\n\
         #define soxr_config_included\n\
         #define AVCODEC_FOUND 0\n\
         #define AVUTIL_FOUND 0\n\
         #define WITH_PFFFT {simd32}\n\
         #define HAVE_FENV_H 1\n\
         #define HAVE_STDBOOL_H 1\n\
         #define HAVE_STDINT_H 1\n\
         #define HAVE_LRINT 0\n\
         #define HAVE_BIGENDIAN {big_endian}\n\
         #define WITH_CR32 1\n\
         #define WITH_CR32S {simd32}\n\
         #define WITH_CR64 0\n\
         #define WITH_CR64S 0\n\
         #define WITH_VR32 1\n\
         #define WITH_HI_PREC_CLOCK 0\n\
         #define WITH_FLOAT_STD_PREC_CLOCK 0\n\
         #define WITH_DEV_TRACE 0\n\
         #endif\n",
        simd32 = u8::from(simd32),
        big_endian = u8::from(big_endian),
    );
    fs::write(out.join("soxr-config.h"), config).expect("write soxr-config.h");

    let mut build = cc::Build::new();
    build
        .include(&out)
        .include(&source)
        // The value CMake gives when it builds the static library: no dllexport/visibility
        // decoration of the API.
        .define("SOXR_LIB", "0")
        // libsoxr's own C dialect (its CMakeLists sets -std=gnu89 for GCC and Clang).
        .flag_if_supported("-std=gnu89")
        // A path dependency's C warnings would be printed on every build: libsoxr is upstream
        // code, left as it is.
        .warnings(false);
    // CMake's Release builds of libsoxr (python-soxr's wheels, distributions' packages) define
    // NDEBUG, and so does this one when debug assertions are off: libsoxr's asserts sit in its
    // inner loops and cost some 12 % of HQ's time. Builds with debug assertions (auscult's
    // tests) keep them.
    if env::var_os("CARGO_CFG_DEBUG_ASSERTIONS").is_none() {
        build.define("NDEBUG", None);
    }
    let sources = COMMON
        .iter()
        .chain(if simd32 { SIMD32 } else { &[] })
        .map(|name| source.join(name));
    build.files(sources);
    build.compile("soxr");

    if target_os != "windows" {
        println!("cargo::rustc-link-lib=m");
    }
}
