//! Copies of fixture folders to break or to write beside: a checkpoint without its reference
//! dumps or without a config file, a traces file with its sidecars. The bundled files stay as
//! they are.

use std::path::Path;

/// Copies the files of `from` whose names `keep` accepts into `to` (created if missing; every
/// entry kept must be a file) and returns how many it copied.
pub fn copy_files(from: &Path, to: &Path, keep: impl Fn(&str) -> bool) -> usize {
    std::fs::create_dir_all(to).unwrap_or_else(|e| panic!("{}: {e}", to.display()));
    let mut copied = 0;
    for entry in std::fs::read_dir(from).unwrap_or_else(|e| panic!("{}: {e}", from.display())) {
        let entry = entry.unwrap();
        let name = entry.file_name().into_string().expect("a UTF-8 file name");
        if keep(&name) {
            std::fs::copy(entry.path(), to.join(&name))
                .unwrap_or_else(|e| panic!("copying {}: {e}", entry.path().display()));
            copied += 1;
        }
    }
    copied
}

/// A checkpoint's files without its parity references (`case_*`): a copy to break.
pub fn not_a_reference(name: &str) -> bool {
    !name.starts_with("case_")
}
