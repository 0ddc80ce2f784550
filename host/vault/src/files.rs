//! How the vault creates things on disk: the data directory private to its owner
//! (0700), files private from the moment they exist (0600), durable directory entries.
//!
//! The modes are given to `mkdir(2)`/`open(2)` themselves, never fixed up afterwards,
//! so nothing is ever visible with wider rights. This module only creates; it does not
//! read secrets, and it does not judge existing files (the server key's own check is in
//! `server_key`).

use std::fs::{File, OpenOptions};
use std::io;
use std::path::Path;

use crate::VaultError;

/// Create the data directory private to its owner; an existing one is left as it is.
pub(crate) fn create_private_dir(dir: &Path) -> Result<(), VaultError> {
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        builder.mode(0o700);
    }
    builder.create(dir).map_err(|e| {
        VaultError::Config(format!(
            "cannot create the data directory {}: {e}",
            dir.display()
        ))
    })
}

/// Create `path` empty and private unless it exists already (then it is left as it
/// is). For the database: SQLite would create it with the umask (often 0644), and gives
/// its `-wal` and `-shm` files the database file's mode.
pub(crate) fn ensure_private_file(path: &Path) -> Result<(), VaultError> {
    match private_create_new(path) {
        Ok(_) => Ok(()),
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => Ok(()),
        Err(e) => Err(VaultError::Config(format!(
            "cannot create {}: {e}",
            path.display()
        ))),
    }
}

/// Create a new file readable and writable by its owner only. The mode is given to
/// `open(2)` itself, so the file is never visible with wider rights.
pub(crate) fn private_create_new(path: &Path) -> io::Result<File> {
    let mut options = OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    options.open(path)
}

/// Make a new directory entry durable (best effort: not every platform can fsync a
/// directory, and the data is already in the file).
pub(crate) fn sync_dir(dir: &Path) {
    if let Ok(d) = File::open(dir) {
        let _ = d.sync_all();
    }
}
