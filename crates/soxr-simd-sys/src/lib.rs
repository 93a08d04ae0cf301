//! Raw bindings to libsoxr 0.1.3 (the SoX Resampler library), compiled from the C source in
//! `libsoxr/` by this crate's build script and linked statically, with libsoxr's SIMD engine
//! (`cr32s`: SSE and pffft) on x86_64 and its plain C engine (`cr32`) elsewhere. See README.md.
//!
//! Only what auscult uses is declared: the one-shot call, the stream resampler's life cycle (to
//! ask which engine libsoxr picked) and the spec constructors. The declarations follow
//! `libsoxr/soxr.h`; its comments there are the documentation.

#![no_std]
#![allow(non_camel_case_types)]

use core::ffi::{c_char, c_double, c_uint, c_ulong, c_void};

/// An opaque resampler (`struct soxr`).
#[repr(C)]
pub struct soxr {
    _private: [u8; 0],
}

/// A resampler handle, as `soxr_create` returns it.
pub type soxr_t = *mut soxr;
/// Null for no error, else a static NUL-terminated message.
pub type soxr_error_t = *const c_char;
/// Input: one buffer of channel-interleaved samples (or one per channel with a split type).
pub type soxr_in_t = *const c_void;
/// Output: as `soxr_in_t`, writable.
pub type soxr_out_t = *mut c_void;

/// `soxr_datatype_t`, a C enum.
pub type soxr_datatype_t = c_uint;
/// 32-bit float samples, channels interleaved.
pub const SOXR_FLOAT32_I: soxr_datatype_t = 0;
/// 64-bit float samples, channels interleaved.
pub const SOXR_FLOAT64_I: soxr_datatype_t = 1;
/// 32-bit integer samples, channels interleaved.
pub const SOXR_INT32_I: soxr_datatype_t = 2;
/// 16-bit integer samples, channels interleaved.
pub const SOXR_INT16_I: soxr_datatype_t = 3;

/// Quality recipes for `soxr_quality_spec`.
pub const SOXR_QQ: c_ulong = 0;
pub const SOXR_LQ: c_ulong = 1;
pub const SOXR_MQ: c_ulong = 2;
pub const SOXR_16_BITQ: c_ulong = 3;
pub const SOXR_20_BITQ: c_ulong = 4;
pub const SOXR_24_BITQ: c_ulong = 5;
pub const SOXR_28_BITQ: c_ulong = 6;
pub const SOXR_32_BITQ: c_ulong = 7;
/// "High quality": 20-bit precision.
pub const SOXR_HQ: c_ulong = SOXR_20_BITQ;
/// "Very high quality": 28-bit precision.
pub const SOXR_VHQ: c_ulong = SOXR_28_BITQ;

/// Phase-response flags for `soxr_quality_spec` (linear phase is the default, 0).
pub const SOXR_LINEAR_PHASE: c_ulong = 0x00;
pub const SOXR_INTERMEDIATE_PHASE: c_ulong = 0x10;
pub const SOXR_MINIMUM_PHASE: c_ulong = 0x30;
pub const SOXR_STEEP_FILTER: c_ulong = 0x40;

/// `struct soxr_io_spec`.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct soxr_io_spec_t {
    pub itype: soxr_datatype_t,
    pub otype: soxr_datatype_t,
    pub scale: c_double,
    pub e: *mut c_void,
    pub flags: c_ulong,
}

/// `struct soxr_quality_spec`.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct soxr_quality_spec_t {
    pub precision: c_double,
    pub phase_response: c_double,
    pub passband_end: c_double,
    pub stopband_begin: c_double,
    pub e: *mut c_void,
    pub flags: c_ulong,
}

/// `struct soxr_runtime_spec`.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct soxr_runtime_spec_t {
    pub log2_min_dft_size: c_uint,
    pub log2_large_dft_size: c_uint,
    pub coef_size_kbytes: c_uint,
    pub num_threads: c_uint,
    pub e: *mut c_void,
    pub flags: c_ulong,
}

extern "C" {
    /// "libsoxr-0.1.3".
    pub fn soxr_version() -> *const c_char;

    pub fn soxr_create(
        input_rate: c_double,
        output_rate: c_double,
        num_channels: c_uint,
        error: *mut soxr_error_t,
        io_spec: *const soxr_io_spec_t,
        quality_spec: *const soxr_quality_spec_t,
        runtime_spec: *const soxr_runtime_spec_t,
    ) -> soxr_t;

    pub fn soxr_process(
        resampler: soxr_t,
        input: soxr_in_t,
        ilen: usize,
        idone: *mut usize,
        output: soxr_out_t,
        olen: usize,
        odone: *mut usize,
    ) -> soxr_error_t;

    pub fn soxr_error(resampler: soxr_t) -> soxr_error_t;

    pub fn soxr_delay(resampler: soxr_t) -> c_double;

    /// The engine libsoxr chose for this resampler: "cr32s" (SIMD), "cr32", "vr32"…
    pub fn soxr_engine(resampler: soxr_t) -> *const c_char;

    pub fn soxr_clear(resampler: soxr_t) -> soxr_error_t;

    pub fn soxr_delete(resampler: soxr_t);

    #[allow(clippy::too_many_arguments)]
    pub fn soxr_oneshot(
        input_rate: c_double,
        output_rate: c_double,
        num_channels: c_uint,
        input: soxr_in_t,
        ilen: usize,
        idone: *mut usize,
        output: soxr_out_t,
        olen: usize,
        odone: *mut usize,
        io_spec: *const soxr_io_spec_t,
        quality_spec: *const soxr_quality_spec_t,
        runtime_spec: *const soxr_runtime_spec_t,
    ) -> soxr_error_t;

    pub fn soxr_quality_spec(recipe: c_ulong, flags: c_ulong) -> soxr_quality_spec_t;

    pub fn soxr_runtime_spec(num_threads: c_uint) -> soxr_runtime_spec_t;

    pub fn soxr_io_spec(itype: soxr_datatype_t, otype: soxr_datatype_t) -> soxr_io_spec_t;
}
