//! How the vault creates things on disk: the data directory private to its owner
//! (0700, checked and repaired), files private from the moment they exist (0600),
//! durable directory entries.
//!
//! The modes are given to `mkdir(2)`/`open(2)` themselves, never fixed up afterwards,
//! so nothing is ever visible with wider rights. This module does not read secrets, and
//! it does not judge existing files (the server key's own check is in `server_key`).

use std::fs::{File, OpenOptions};
use std::io;
use std::path::Path;

use crate::VaultError;

/// What [`secure_data_dir`] found.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DataDirCheck {
    /// The directory did not exist; it was created with mode 0700.
    Created,
    /// It exists, belongs to this user and only this user can use it.
    Private,
    /// It held only orderdesk-mcp's own files and was readable (not writable) by group
    /// or others, as versions before 0700 was enforced created it; its mode is now 0700.
    Repaired {
        /// The mode it had.
        was_mode: u32,
    },
}

/// Entries orderdesk-mcp itself creates in a data directory.
fn is_own_entry(name: &str) -> bool {
    let db = crate::DB_FILE_NAME;
    let key = crate::SERVER_KEY_FILE_NAME;
    name == db
        || name
            .strip_prefix(db)
            .is_some_and(|rest| matches!(rest, "-wal" | "-shm" | "-journal"))
        || name == key
        || name == crate::server_key::NEW_SERVER_KEY_FILE_NAME
        || (name.starts_with(&format!(".{key}.")) && name.ends_with(".tmp"))
        || matches!(name, "config.toml" | "cache" | "sandbox")
}

/// Make sure `dir` is a data directory only its owner can use: create it with mode 0700
/// if it is missing; refuse one that belongs to another user, is not a directory, or is
/// writable by group or others (its files may have been replaced: look before using
/// it); repair (to 0700) one that holds nothing but orderdesk-mcp's files and is only
/// readable by others; refuse any other directory readable by others (it holds more than
/// ours, e.g. a home directory: choose or fix it yourself). Every refusal says what to
/// run.
pub fn secure_data_dir(dir: &Path) -> Result<DataDirCheck, VaultError> {
    let created = match std::fs::metadata(dir) {
        Ok(_) => false,
        Err(e) if e.kind() == io::ErrorKind::NotFound => {
            create_private_dir(dir)?;
            true
        }
        Err(e) => {
            return Err(VaultError::Config(format!(
                "cannot inspect the data directory {}: {e}",
                dir.display()
            )));
        }
    };
    let meta = std::fs::metadata(dir).map_err(|e| {
        VaultError::Config(format!(
            "cannot inspect the data directory {}: {e}",
            dir.display()
        ))
    })?;
    if !meta.is_dir() {
        return Err(VaultError::Config(format!(
            "the data directory {} is not a directory; pass another with --data-dir or \
             ORDERDESK_MCP_DATA_DIR",
            dir.display()
        )));
    }
    check_private_dir(dir, &meta, created)
}

#[cfg(unix)]
fn check_private_dir(
    dir: &Path,
    meta: &std::fs::Metadata,
    created: bool,
) -> Result<DataDirCheck, VaultError> {
    use std::os::unix::fs::{MetadataExt, PermissionsExt};
    let d = dir.display();
    let me = rustix::process::geteuid().as_raw();
    if meta.uid() != me {
        return Err(VaultError::Config(format!(
            "the data directory {d} belongs to user id {}, not to this user (id {me}); it \
             holds secrets, so it must be this user's own: use another directory \
             (--data-dir or ORDERDESK_MCP_DATA_DIR), or run: chown {me} {d} && chmod 700 {d}",
            meta.uid()
        )));
    }
    let mode = meta.mode() & 0o7777;
    if mode & 0o077 == 0 {
        return Ok(if created {
            DataDirCheck::Created
        } else {
            DataDirCheck::Private
        });
    }
    if mode & 0o022 != 0 || mode & 0o1000 != 0 {
        return Err(VaultError::Config(format!(
            "the data directory {d} is writable by group or others (mode {mode:04o}), so its \
             files may have been replaced; check them, then run: chmod 700 {d}"
        )));
    }
    let entries = std::fs::read_dir(dir)
        .map_err(|e| VaultError::Config(format!("cannot list the data directory {d}: {e}")))?;
    let mut only_ours = true;
    for entry in entries {
        let entry = entry
            .map_err(|e| VaultError::Config(format!("cannot list the data directory {d}: {e}")))?;
        if !entry.file_name().to_str().is_some_and(is_own_entry) {
            only_ours = false;
            break;
        }
    }
    if !only_ours {
        return Err(VaultError::Config(format!(
            "the data directory {d} is readable by group or others (mode {mode:04o}) and holds \
             more than orderdesk-mcp's files; it holds secrets: use a directory of its own \
             (--data-dir or ORDERDESK_MCP_DATA_DIR), or run: chmod 700 {d}"
        )));
    }
    std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700)).map_err(|e| {
        VaultError::Config(format!(
            "the data directory {d} is readable by group or others (mode {mode:04o}) and \
             could not be made private ({e}); run: chmod 700 {d}"
        ))
    })?;
    Ok(DataDirCheck::Repaired { was_mode: mode })
}

#[cfg(not(unix))]
fn check_private_dir(
    _dir: &Path,
    _meta: &std::fs::Metadata,
    created: bool,
) -> Result<DataDirCheck, VaultError> {
    Ok(if created {
        DataDirCheck::Created
    } else {
        DataDirCheck::Private
    })
}

/// Create the data directory private to its owner; an existing one is left as it is.
fn create_private_dir(dir: &Path) -> Result<(), VaultError> {
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
