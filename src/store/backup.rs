//! Backups of the embedded store, and the proof that they restore.
//!
//! **What a backup is.** A directory holding `pitboss.redb`, a new redb file with every row
//! of every table of the store as one read transaction saw them, and `manifest.json`
//! ([`Manifest`]: format version, time, the journal's checkpoint number, the input positions,
//! row counts per table, the file's SHA-256 and a SHA-256 of the rows themselves). The
//! manifest is written last (to a temporary name, synced, renamed): a directory without one
//! is not a backup. After a check, `check.json` ([`CheckReport`]) says whether the backup
//! restored and audited clean.
//!
//! **Why one read transaction is a consistent cut.** The store writes each checkpoint in
//! one redb write transaction (states, ledger journal, GGR rows, wallet transactions,
//! positions, meta) and writes nothing between checkpoints, so every committed transaction
//! is a checkpoint boundary and a read transaction sees exactly one of them: the states, the
//! ledger and the input positions of one cut. Nothing has to pause the processor: redb is
//! copy-on-write, the read transaction keeps its pages alive while later checkpoints
//! commit (the file may grow by what they write meanwhile; the pages are freed once the
//! backup ends).
//!
//! **Why the running process takes it.** redb takes an exclusive `flock` on its file when it
//! opens it (`FileBackend::new`, `LOCK_EX | LOCK_NB`; redb 2 has no read-only mode), so a
//! second process cannot open the store while `pitboss run` has it, and copying the file's
//! bytes underneath it would mix pages of different commits. So the instance that holds the
//! file makes the copy: `POST /api/admin/backup` (admin key, audited; [`Backups::take`])
//! is what `pitboss backup` calls when the file is locked. When no process holds the file,
//! `pitboss backup` opens it itself and copies from it the same way ([`take_offline`]). The
//! scheduled backups ([`run_schedule`]) run inside `pitboss run` for the same reason.
//!
//! **Why rows, not pages.** Copying table by table into a fresh file gives a compact file
//! whose content can be checked independently of redb's page layout: the content digest is
//! computed from the rows while they are copied and again from the restored file, so a
//! restore proves that it holds exactly what the backup read. Every table in the file is
//! copied: one this module does not name is copied as bytes to bytes (the store's own
//! layout), and one of another type stops the backup rather than being left out.
//!
//! **Restore** ([`restore_into`]) refuses a data directory that is not empty, checks the
//! manifest and the file's SHA-256, copies the file into place (synced, then renamed),
//! re-reads it and compares the content digest, row counts and positions with the manifest,
//! then audits it as `pitboss audit` does (ledger against states). A scheduled backup is
//! checked the same way into a scratch directory inside the backup, removed afterwards.
//!
//! The ScyllaDB store is backed up with ScyllaDB's own snapshots (README, "Backups"); this
//! module is for the embedded store only.

use std::collections::BTreeMap;
use std::fs;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use pitboss_actors::shell::StoreError;
use redb::{Database, ReadTransaction, ReadableTable, TableDefinition, TableHandle};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::audit::{audit, AuditReport};
use super::embedded::{
    self, Redb, ENTITIES, FORMAT, GGR, JOURNAL, MACHINE_LOG, META, POSITIONS, WALLET_TXS,
    WALLET_TX_EXPIRY,
};
use crate::clock::now_ms;
use crate::telemetry;

/// The manifest's file name in a backup directory.
pub const MANIFEST: &str = "manifest.json";
/// The restore check's report, next to the manifest.
pub const CHECK: &str = "check.json";
/// The manifest format this build writes (and the newest it reads).
pub const MANIFEST_FORMAT: u32 = 1;
/// Scheduled backups are directories named `pitboss-<UTC time>` in `store.backup-dir`.
pub const SCHEDULED_PREFIX: &str = "pitboss-";
/// The scratch directory a check restores into, inside the backup being checked.
const CHECK_DIR: &str = ".restore-check";
/// Rows per write transaction of the copy: bounds the copy's memory, whatever the store's size.
const COPY_CHUNK_ROWS: u64 = 100_000;
/// Differences a check report keeps (the count is always whole).
const CHECK_DIFFERENCES_MAX: usize = 20;

/// Why a backup, restore or check failed. Each message names the path concerned.
#[derive(Debug, thiserror::Error)]
pub enum BackupError {
    /// The target directory has entries.
    #[error("{dir} is not empty (holds {entries}): {what} needs an empty or new directory")]
    NotEmpty {
        dir: PathBuf,
        entries: String,
        what: &'static str,
    },
    /// No store file to back up.
    #[error("no embedded store at {0}: nothing to back up (is store.data-dir right?)")]
    NoStore(PathBuf),
    /// Another process holds the store file.
    #[error("the store file {0} is open in another process (redb locks its file)")]
    Locked(PathBuf),
    /// The directory is not a backup this build can read.
    #[error("{dir} is not a pitboss backup this build can restore: {why}")]
    NotABackup { dir: PathBuf, why: String },
    /// The backup's bytes or rows are not what its manifest says.
    #[error("backup {dir} does not verify: {why}")]
    Corrupt { dir: PathBuf, why: String },
    /// The store holds a table of a type this build does not know.
    #[error("{path} holds table `{table}` of a type this build does not know: back it up with the pitboss version that wrote it")]
    UnknownTable { path: PathBuf, table: String },
    /// A file system call failed.
    #[error("{what} {path}: {source}")]
    Io {
        what: &'static str,
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// A redb call failed.
    #[error("{what} {path}: {source}")]
    Redb {
        what: &'static str,
        path: PathBuf,
        /// Boxed: redb's error is large, and this enum travels in every `Result` here.
        #[source]
        source: Box<redb::Error>,
    },
    /// This process is already taking a backup.
    #[error("a backup is already being taken by this process; try again when it is done")]
    Busy,
    /// Opening or auditing the restored copy failed.
    #[error("the restored copy: {0}")]
    Store(#[from] StoreError),
    /// The blocking task running the copy did not finish.
    #[error("backup task: {0}")]
    Task(String),
}

fn io<'a>(what: &'static str, path: &'a Path) -> impl Fn(std::io::Error) -> BackupError + 'a {
    move |source| BackupError::Io {
        what,
        path: path.to_path_buf(),
        source,
    }
}

fn rd<'a, E: Into<redb::Error>>(
    what: &'static str,
    path: &'a Path,
) -> impl Fn(E) -> BackupError + 'a {
    move |e| BackupError::Redb {
        what,
        path: path.to_path_buf(),
        source: Box::new(e.into()),
    }
}

/// An input position as the manifest records it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ManifestPosition {
    pub topic: String,
    pub partition: i32,
    /// The next offset to consume: where a run from this backup starts.
    pub next_offset: i64,
}

/// What a backup holds, written next to it as `manifest.json`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Manifest {
    /// [`MANIFEST_FORMAT`] of the build that wrote it.
    pub format: u32,
    /// The embedded store's layout version (`meta` `format`).
    pub store_layout: u64,
    /// The pitboss version that took it.
    pub pitboss_version: String,
    /// When the read transaction began, ms since the epoch, and as RFC 3339 UTC.
    pub created_at_ms: i64,
    pub created_at: String,
    /// The journal's checkpoint number (`meta` `checkpoint`: checkpoints that recorded
    /// money movements; 0 before the first).
    pub checkpoint: u64,
    /// The input positions of the cut: a run restored from this backup consumes from here.
    pub positions: Vec<ManifestPosition>,
    /// Rows per table.
    pub rows: BTreeMap<String, u64>,
    /// The store file in the backup directory.
    pub file: String,
    pub file_bytes: u64,
    /// SHA-256 of the file's bytes, hex.
    pub file_sha256: String,
    /// SHA-256 of every table's name and rows (key and value bytes, length-prefixed, in key
    /// order), hex: what the restored file must hold, whatever redb's page layout.
    pub content_sha256: String,
}

impl Manifest {
    /// Input positions of `topic` summed over its partitions (tests, reports).
    pub fn consumed(&self, topic: &str) -> i64 {
        self.positions
            .iter()
            .filter(|p| p.topic == topic)
            .map(|p| p.next_offset)
            .sum()
    }
}

/// The result of restoring a backup and auditing the copy.
#[derive(Debug, Serialize)]
pub struct Restored {
    pub manifest: Manifest,
    /// The audit of the restored store (`pitboss audit`'s report).
    pub audit: AuditReport,
}

/// Whether a backup restored and audited clean: `check.json`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CheckReport {
    /// When the check ended, ms since the epoch.
    pub at_ms: i64,
    /// Restored, verified against the manifest, and audited with no difference.
    pub ok: bool,
    /// Entities and ledger entries the audit read (0 when the restore failed).
    pub entities: u64,
    pub ledger_entries: u64,
    /// How many differences the audit found, and the first of them.
    pub differences: u64,
    pub first_differences: Vec<String>,
    /// Why the restore itself failed, if it did.
    pub error: Option<String>,
}

/// A backup taken, and its check if one was asked for.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Taken {
    /// Where it is.
    pub dir: PathBuf,
    pub manifest: Manifest,
    pub check: Option<CheckReport>,
}

/// The directory name of a scheduled backup taken at `ms`: sorts by time.
pub fn scheduled_name(ms: i64) -> String {
    let s = crate::clock::rfc3339(ms).replace(['-', ':'], "");
    format!("{SCHEDULED_PREFIX}{s}")
}

/// Makes sure `dir` exists and is empty; returns whether it was created here.
fn ensure_empty_dir(dir: &Path, what: &'static str) -> Result<bool, BackupError> {
    match fs::read_dir(dir) {
        Ok(entries) => {
            let mut names: Vec<String> = Vec::new();
            let mut count = 0usize;
            for e in entries {
                let e = e.map_err(io("reading the directory", dir))?;
                count += 1;
                if names.len() < 3 {
                    names.push(e.file_name().to_string_lossy().into_owned());
                }
            }
            if count > 0 {
                let more = if count > names.len() {
                    format!(" and {} more", count - names.len())
                } else {
                    String::new()
                };
                return Err(BackupError::NotEmpty {
                    dir: dir.to_path_buf(),
                    entries: format!("{}{more}", names.join(", ")),
                    what,
                });
            }
            Ok(false)
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            fs::create_dir_all(dir).map_err(io("creating the directory", dir))?;
            Ok(true)
        }
        Err(e) => Err(io("reading the directory", dir)(e)),
    }
}

/// Removes what a failed backup or restore wrote into `dir` (`files`), and `dir` itself if
/// it was created for it. Best effort: the original failure is what gets reported.
fn clean_up(dir: &Path, created: bool, files: &[&str]) {
    for f in files {
        let _ = fs::remove_file(dir.join(f));
    }
    if created {
        let _ = fs::remove_dir_all(dir);
    }
}

fn sync_dir(dir: &Path) -> Result<(), BackupError> {
    fs::File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(io("syncing the directory", dir))
}

/// Size and SHA-256 (hex) of a file.
fn hash_file(path: &Path) -> Result<(u64, String), BackupError> {
    let mut f = fs::File::open(path).map_err(io("opening", path))?;
    let mut h = Sha256::new();
    let mut buf = vec![0u8; 1 << 20];
    let mut n = 0u64;
    loop {
        let got = f.read(&mut buf).map_err(io("reading", path))?;
        if got == 0 {
            break;
        }
        h.update(&buf[..got]);
        n += got as u64;
    }
    Ok((n, hex::encode(h.finalize())))
}

/// Writes `bytes` to `dir/name` durably and atomically (a temporary name, synced, renamed).
fn write_atomically(dir: &Path, name: &str, bytes: &[u8]) -> Result<(), BackupError> {
    let tmp = dir.join(format!(".{name}.tmp"));
    let path = dir.join(name);
    let mut f = fs::File::create(&tmp).map_err(io("creating", &tmp))?;
    f.write_all(bytes).map_err(io("writing", &tmp))?;
    f.sync_all().map_err(io("syncing", &tmp))?;
    drop(f);
    fs::rename(&tmp, &path).map_err(io("renaming into place", &path))?;
    sync_dir(dir)
}

/// The tables of the store with their types; any other table is copied as bytes to bytes.
const TABLES: [&str; 8] = [
    "entities",
    "journal",
    "ggr",
    "positions",
    "meta",
    "wallet_txs",
    "wallet_tx_expiry",
    "machine_log",
];

/// What a scan of one read transaction found.
struct Cut {
    rows: BTreeMap<String, u64>,
    content_sha256: String,
    checkpoint: u64,
    store_layout: u64,
    positions: Vec<ManifestPosition>,
}

fn digest_bytes(d: &mut Sha256, b: &[u8]) {
    d.update((b.len() as u64).to_be_bytes());
    d.update(b);
}

/// Feeds every row of `def` (as `rtx` sees it) to the digest and, with `dst`, copies them
/// into the same table of `dst`, [`COPY_CHUNK_ROWS`] per write transaction. A table that
/// does not exist counts as empty. Returns the rows.
fn copy_table<K: redb::Key + 'static, V: redb::Value + 'static>(
    rtx: &ReadTransaction,
    def: TableDefinition<'_, K, V>,
    (src, dst): (&Path, Option<(&Database, &Path)>),
    digest: &mut Sha256,
) -> Result<u64, BackupError> {
    digest_bytes(digest, def.name().as_bytes());
    let table = match rtx.open_table(def) {
        Ok(t) => t,
        Err(redb::TableError::TableDoesNotExist(_)) => return Ok(0),
        Err(redb::TableError::TableTypeMismatch { .. }) => {
            return Err(BackupError::UnknownTable {
                path: src.to_path_buf(),
                table: def.name().to_string(),
            })
        }
        Err(e) => return Err(rd("opening a table of", src)(e)),
    };
    let mut rows = 0u64;
    let mut iter = table.iter().map_err(rd("reading", src))?;
    loop {
        let wtx = match dst {
            Some((db, p)) => Some(db.begin_write().map_err(rd("writing", p))?),
            None => None,
        };
        let mut more = false;
        {
            let mut out = match (&wtx, dst) {
                (Some(w), Some((_, p))) => Some(w.open_table(def).map_err(rd("writing", p))?),
                _ => None,
            };
            let mut n = 0u64;
            for item in iter.by_ref() {
                let (k, v) = item.map_err(rd("reading", src))?;
                let (k, v) = (k.value(), v.value());
                digest_bytes(digest, <K as redb::Value>::as_bytes(&k).as_ref());
                digest_bytes(digest, V::as_bytes(&v).as_ref());
                if let (Some(out), Some((_, p))) = (out.as_mut(), dst) {
                    out.insert(k, v).map_err(rd("writing", p))?;
                }
                rows += 1;
                n += 1;
                if n == COPY_CHUNK_ROWS {
                    more = true;
                    break;
                }
            }
        }
        if let (Some(w), Some((_, p))) = (wtx, dst) {
            w.commit().map_err(rd("committing", p))?;
        }
        if !more {
            return Ok(rows);
        }
    }
}

/// Reads every table through `rtx` (digest, row counts, positions, checkpoint number) and,
/// with `dst`, copies every row into it.
fn scan(
    rtx: &ReadTransaction,
    src: &Path,
    dst: Option<(&Database, &Path)>,
) -> Result<Cut, BackupError> {
    // Tables this list does not name (a layout newer than this module) are copied too, as
    // bytes to bytes, which is how the store keeps its tables; one of another type stops
    // the backup rather than being left out.
    let mut others: Vec<String> = rtx
        .list_tables()
        .map_err(rd("listing the tables of", src))?
        .map(|t| t.name().to_string())
        .filter(|n| !TABLES.contains(&n.as_str()))
        .collect();
    others.sort();
    let mut d = Sha256::new();
    let mut rows = BTreeMap::new();
    let at = (src, dst);
    rows.insert("entities".into(), copy_table(rtx, ENTITIES, at, &mut d)?);
    rows.insert("journal".into(), copy_table(rtx, JOURNAL, at, &mut d)?);
    rows.insert("ggr".into(), copy_table(rtx, GGR, at, &mut d)?);
    rows.insert("positions".into(), copy_table(rtx, POSITIONS, at, &mut d)?);
    rows.insert("meta".into(), copy_table(rtx, META, at, &mut d)?);
    rows.insert(
        "wallet_txs".into(),
        copy_table(rtx, WALLET_TXS, at, &mut d)?,
    );
    rows.insert(
        "wallet_tx_expiry".into(),
        copy_table(rtx, WALLET_TX_EXPIRY, at, &mut d)?,
    );
    rows.insert(
        "machine_log".into(),
        copy_table(rtx, MACHINE_LOG, at, &mut d)?,
    );
    for name in &others {
        let def = TableDefinition::<&[u8], &[u8]>::new(name);
        rows.insert(name.clone(), copy_table(rtx, def, at, &mut d)?);
    }
    let (mut checkpoint, mut store_layout) = (0, 0);
    match rtx.open_table(META) {
        Ok(meta) => {
            let get = |k: &str| -> Result<u64, BackupError> {
                Ok(meta
                    .get(k)
                    .map_err(rd("reading meta of", src))?
                    .map_or(0, |v| v.value()))
            };
            checkpoint = get("checkpoint")?;
            store_layout = get("format")?;
        }
        Err(redb::TableError::TableDoesNotExist(_)) => {}
        Err(e) => return Err(rd("opening meta of", src)(e)),
    }
    let mut positions = Vec::new();
    match rtx.open_table(POSITIONS) {
        Ok(t) => {
            for item in t.iter().map_err(rd("reading positions of", src))? {
                let (k, v) = item.map_err(rd("reading positions of", src))?;
                let p = embedded::position_from_key(k.value(), v.value())?;
                positions.push(ManifestPosition {
                    topic: p.topic,
                    partition: p.partition,
                    next_offset: p.next_offset,
                });
            }
        }
        Err(redb::TableError::TableDoesNotExist(_)) => {}
        Err(e) => return Err(rd("opening positions of", src)(e)),
    }
    Ok(Cut {
        rows,
        content_sha256: hex::encode(d.finalize()),
        checkpoint,
        store_layout,
        positions,
    })
}

/// Copies the store `db` (its file: `src`) into the empty or new directory `to`, from one
/// read transaction, and writes the manifest last. Blocking.
fn backup_from(db: &Database, src: &Path, to: &Path) -> Result<Manifest, BackupError> {
    let created = ensure_empty_dir(to, "a backup")?;
    let file = to.join(embedded::FILE_NAME);
    let result = (|| {
        let rtx = db.begin_read().map_err(rd("starting a read of", src))?;
        let created_at_ms = now_ms();
        let cut = {
            let dst = Database::builder()
                .create(&file)
                .map_err(rd("creating", &file))?;
            scan(&rtx, src, Some((&dst, &file)))?
        };
        drop(rtx);
        let (file_bytes, file_sha256) = hash_file(&file)?;
        let manifest = Manifest {
            format: MANIFEST_FORMAT,
            store_layout: cut.store_layout,
            pitboss_version: env!("CARGO_PKG_VERSION").to_string(),
            created_at_ms,
            created_at: crate::clock::rfc3339(created_at_ms),
            checkpoint: cut.checkpoint,
            positions: cut.positions,
            rows: cut.rows,
            file: embedded::FILE_NAME.to_string(),
            file_bytes,
            file_sha256,
            content_sha256: cut.content_sha256,
        };
        let json = serde_json::to_vec_pretty(&manifest).expect("a manifest serializes");
        write_atomically(to, MANIFEST, &json)?;
        Ok(manifest)
    })();
    if result.is_err() {
        clean_up(to, created, &[embedded::FILE_NAME, ".manifest.json.tmp"]);
    }
    result
}

/// Reads and checks a backup's manifest (format versions).
pub fn read_manifest(dir: &Path) -> Result<Manifest, BackupError> {
    let path = dir.join(MANIFEST);
    let not = |why: String| BackupError::NotABackup {
        dir: dir.to_path_buf(),
        why,
    };
    let text = match fs::read(&path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Err(not(format!(
                "no {MANIFEST} (not a backup, or one that did not finish)"
            )))
        }
        Err(e) => return Err(io("reading", &path)(e)),
    };
    // The format first, so a newer manifest is refused for what it is.
    #[derive(Deserialize)]
    struct Head {
        format: u32,
    }
    let head: Head = serde_json::from_slice(&text)
        .map_err(|e| not(format!("{MANIFEST} cannot be read: {e}")))?;
    if head.format > MANIFEST_FORMAT {
        return Err(not(format!(
            "manifest format {} is newer than this build reads ({MANIFEST_FORMAT})",
            head.format
        )));
    }
    let m: Manifest = serde_json::from_slice(&text)
        .map_err(|e| not(format!("{MANIFEST} cannot be read: {e}")))?;
    if m.store_layout > FORMAT {
        return Err(not(format!(
            "store layout version {} is newer than this build reads ({FORMAT})",
            m.store_layout
        )));
    }
    if m.file != embedded::FILE_NAME {
        return Err(not(format!(
            "the manifest names file {:?}, expected {:?}",
            m.file,
            embedded::FILE_NAME
        )));
    }
    Ok(m)
}

/// Copies the backup's file into the empty or new `data_dir` after checking its bytes, then
/// checks the rows of the copy against the manifest. Blocking. On failure nothing is left
/// in `data_dir` (and a directory created for it is removed).
fn restore_file(from: &Path, data_dir: &Path, m: &Manifest) -> Result<(), BackupError> {
    let corrupt = |why: String| BackupError::Corrupt {
        dir: from.to_path_buf(),
        why,
    };
    let file = from.join(&m.file);
    let (bytes, sha) = match hash_file(&file) {
        Err(BackupError::Io { source, .. }) if source.kind() == std::io::ErrorKind::NotFound => {
            return Err(corrupt(format!("{} is missing", file.display())))
        }
        r => r?,
    };
    if bytes != m.file_bytes || sha != m.file_sha256 {
        return Err(corrupt(format!(
            "{} has {bytes} bytes with SHA-256 {sha}; the manifest says {} bytes with {}",
            file.display(),
            m.file_bytes,
            m.file_sha256
        )));
    }
    let created = ensure_empty_dir(data_dir, "a restore")?;
    let partial = format!("{}.partial", embedded::FILE_NAME);
    let result = (|| {
        let tmp = data_dir.join(&partial);
        fs::copy(&file, &tmp).map_err(io("copying the backup to", &tmp))?;
        fs::File::open(&tmp)
            .and_then(|f| f.sync_all())
            .map_err(io("syncing", &tmp))?;
        let target = data_dir.join(embedded::FILE_NAME);
        fs::rename(&tmp, &target).map_err(io("renaming into place", &target))?;
        sync_dir(data_dir)?;
        // The bytes are right; now the rows: what the backup read is what the file holds.
        let db = Database::open(&target).map_err(rd("opening the restored", &target))?;
        let rtx = db.begin_read().map_err(rd("reading", &target))?;
        let cut = scan(&rtx, &target, None)?;
        if cut.content_sha256 != m.content_sha256 {
            return Err(corrupt(format!(
                "the restored rows have SHA-256 {}; the manifest says {}",
                cut.content_sha256, m.content_sha256
            )));
        }
        if cut.rows != m.rows {
            return Err(corrupt(format!(
                "the restored file has rows {:?}; the manifest says {:?}",
                cut.rows, m.rows
            )));
        }
        if cut.positions != m.positions || cut.checkpoint != m.checkpoint {
            return Err(corrupt(format!(
                "the restored file holds checkpoint {} at {:?}; the manifest says {} at {:?}",
                cut.checkpoint, cut.positions, m.checkpoint, m.positions
            )));
        }
        Ok(())
    })();
    if result.is_err() {
        clean_up(data_dir, created, &[embedded::FILE_NAME, &partial]);
    }
    result
}

async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, BackupError> + Send + 'static,
) -> Result<T, BackupError> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| BackupError::Task(e.to_string()))?
}

/// `pitboss restore`: puts the backup in `from` into `data_dir`, which must be empty or
/// absent, verifies it against its manifest, then audits it as `pitboss audit` does.
/// A restore that verifies is kept even if the audit finds differences (the report says
/// so); one that does not verify leaves nothing behind.
pub async fn restore_into(from: &Path, data_dir: &Path) -> Result<Restored, BackupError> {
    let manifest = read_manifest(from)?;
    {
        let (from, data_dir, m) = (from.to_path_buf(), data_dir.to_path_buf(), manifest.clone());
        blocking(move || restore_file(&from, &data_dir, &m)).await?;
    }
    let store = Redb::open(data_dir)?;
    let report = audit(&store).await?;
    Ok(Restored {
        manifest,
        audit: report,
    })
}

/// Restores `backup` into a scratch directory inside it, audits it, removes the scratch
/// directory and writes `check.json`. The report says what went wrong; only a failure to
/// write the report is an error.
pub async fn check(backup: &Path) -> Result<CheckReport, BackupError> {
    let scratch = backup.join(CHECK_DIR);
    let restored = restore_into(backup, &scratch).await;
    let _ = fs::remove_dir_all(&scratch);
    let report = match restored {
        Ok(r) => CheckReport {
            at_ms: now_ms(),
            ok: r.audit.ok(),
            entities: r.audit.entities,
            ledger_entries: r.audit.ledger_entries,
            differences: r.audit.differences.len() as u64,
            first_differences: r
                .audit
                .differences
                .iter()
                .take(CHECK_DIFFERENCES_MAX)
                .cloned()
                .collect(),
            error: None,
        },
        Err(e) => CheckReport {
            at_ms: now_ms(),
            ok: false,
            entities: 0,
            ledger_entries: 0,
            differences: 0,
            first_differences: Vec::new(),
            error: Some(e.to_string()),
        },
    };
    let json = serde_json::to_vec_pretty(&report).expect("a report serializes");
    let dir = backup.to_path_buf();
    blocking(move || write_atomically(&dir, CHECK, &json)).await?;
    Ok(report)
}

/// The last backup and restore check of this process: (time ms, succeeded).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Status {
    pub backup: Option<(i64, bool)>,
    pub check: Option<(i64, bool)>,
}

/// Backups taken by the process that holds the store (`pitboss run`): the admin endpoint
/// and the schedule share it, one backup at a time.
pub struct Backups {
    redb: Arc<Redb>,
    running: tokio::sync::Mutex<()>,
    status: Mutex<Status>,
}

impl Backups {
    pub fn new(redb: Arc<Redb>) -> Self {
        Self {
            redb,
            running: tokio::sync::Mutex::new(()),
            status: Mutex::new(Status::default()),
        }
    }

    /// The last backup and check, as the metrics show them.
    pub fn status(&self) -> Status {
        *self.status.lock().expect("status lock")
    }

    fn record_backup(&self, ok: bool) {
        let at = now_ms();
        self.status.lock().expect("status lock").backup = Some((at, ok));
        telemetry::backup_result(at, ok);
    }

    fn record_check(&self, at: i64, ok: bool) {
        self.status.lock().expect("status lock").check = Some((at, ok));
        telemetry::restore_check_result(at, ok);
    }

    /// Takes a backup of the running store into `to` (empty or new) and, with `check`,
    /// restores it into a scratch directory and audits it. [`BackupError::Busy`] if one is
    /// being taken.
    pub async fn take(&self, to: &Path, check: bool) -> Result<Taken, BackupError> {
        let _one = self.running.try_lock().map_err(|_| BackupError::Busy)?;
        let (redb, dir) = (self.redb.clone(), to.to_path_buf());
        let taken = blocking(move || backup_from(redb.database(), redb.path(), &dir)).await;
        self.record_backup(taken.is_ok());
        let manifest = taken?;
        let check = if check {
            let report = self::check(to).await;
            let (at, ok) = report
                .as_ref()
                .map_or((now_ms(), false), |r| (r.at_ms, r.ok));
            self.record_check(at, ok);
            Some(report?)
        } else {
            None
        };
        Ok(Taken {
            dir: to.to_path_buf(),
            manifest,
            check,
        })
    }

    /// Shows the newest scheduled backup in `dir` (and its check) in the status and the
    /// metrics, so a restart does not hide how old the last backup is.
    pub fn adopt_newest(&self, dir: &Path) {
        let Some(newest) = scheduled(dir).into_iter().rev().find(|(_, m)| m.is_some()) else {
            return;
        };
        let (path, manifest) = (newest.0, newest.1.expect("found with a manifest"));
        let mut s = self.status.lock().expect("status lock");
        if s.backup.is_none() {
            s.backup = Some((manifest.created_at_ms, true));
            telemetry::backup_result(manifest.created_at_ms, true);
        }
        if s.check.is_none() {
            let check = fs::read(path.join(CHECK))
                .ok()
                .and_then(|b| serde_json::from_slice::<CheckReport>(&b).ok());
            if let Some(c) = check {
                s.check = Some((c.at_ms, c.ok));
                telemetry::restore_check_result(c.at_ms, c.ok);
            }
        }
    }
}

/// `pitboss backup` when no process holds the store: copies it from its file in `data_dir`
/// into `to` and, with `check`, restores and audits the copy.
pub async fn take_offline(data_dir: &Path, to: &Path, check: bool) -> Result<Taken, BackupError> {
    let file = data_dir.join(embedded::FILE_NAME);
    if !file.is_file() {
        return Err(BackupError::NoStore(file));
    }
    let (src, dir) = (file.clone(), to.to_path_buf());
    let manifest = blocking(move || {
        let db = match Database::open(&src) {
            Ok(db) => db,
            Err(redb::DatabaseError::DatabaseAlreadyOpen) => {
                return Err(BackupError::Locked(src));
            }
            Err(e) => return Err(rd("opening", &src)(e)),
        };
        backup_from(&db, &src, &dir)
    })
    .await?;
    let check = if check {
        Some(self::check(to).await?)
    } else {
        None
    };
    Ok(Taken {
        dir: to.to_path_buf(),
        manifest,
        check,
    })
}

/// The scheduled backups in `dir`, oldest first, each with its manifest if it has one (one
/// without did not finish).
fn scheduled(dir: &Path) -> Vec<(PathBuf, Option<Manifest>)> {
    let Ok(entries) = fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut out: Vec<(PathBuf, Option<Manifest>)> = entries
        .filter_map(Result::ok)
        .filter(|e| {
            e.file_name()
                .to_string_lossy()
                .starts_with(SCHEDULED_PREFIX)
        })
        .filter(|e| e.file_type().is_ok_and(|t| t.is_dir()))
        .map(|e| {
            let p = e.path();
            let m = read_manifest(&p).ok();
            (p, m)
        })
        .collect();
    out.sort_by(|a, b| a.0.cmp(&b.0));
    out
}

/// Keeps the newest `keep` finished scheduled backups in `dir` and removes the others, and
/// every unfinished one. Returns what it removed.
pub fn prune(dir: &Path, keep: usize) -> Vec<PathBuf> {
    let all = scheduled(dir);
    let finished = all.iter().filter(|(_, m)| m.is_some()).count();
    let mut drop_finished = finished.saturating_sub(keep);
    let mut removed = Vec::new();
    for (path, m) in all {
        let remove = if m.is_some() && drop_finished > 0 {
            drop_finished -= 1;
            true
        } else {
            m.is_none()
        };
        if remove {
            match fs::remove_dir_all(&path) {
                Ok(()) => removed.push(path),
                Err(e) => {
                    tracing::warn!(dir = %path.display(), error = %e, "removing an old backup failed")
                }
            }
        }
    }
    removed
}

/// The backup schedule (`store.backup-dir`, `backup-interval-secs`, `backup-keep`).
#[derive(Debug, Clone)]
pub struct Schedule {
    pub dir: PathBuf,
    pub interval: Duration,
    pub keep: usize,
}

impl Schedule {
    /// The schedule the configuration asks for, if any.
    pub fn from_config(cfg: &super::StoreConfig) -> Option<Self> {
        (cfg.backup_interval_secs > 0).then(|| Self {
            dir: cfg.backup_dir.clone(),
            interval: Duration::from_secs(cfg.backup_interval_secs),
            keep: cfg.backup_keep as usize,
        })
    }
}

/// Takes a backup into `schedule.dir` every `schedule.interval` (the first one interval
/// after the newest already there), checks each by restoring and auditing it, keeps the
/// newest `keep`, and records every result in the status and the metrics. Runs until
/// `stop` is set (checked between backups).
pub async fn run_schedule(backups: Arc<Backups>, schedule: Schedule, stop: Arc<AtomicBool>) {
    if let Err(e) = fs::create_dir_all(&schedule.dir) {
        tracing::error!(dir = %schedule.dir.display(), error = %e, "cannot create store.backup-dir; scheduled backups fail until it can be");
    }
    prune(&schedule.dir, schedule.keep);
    backups.adopt_newest(&schedule.dir);
    let interval_ms = schedule.interval.as_millis() as i64;
    let newest = backups.status().backup.map(|(at, _)| at);
    let mut due = newest.map_or(now_ms() + interval_ms, |at| at + interval_ms);
    while !stop.load(Ordering::Relaxed) {
        let wait = (due - now_ms()).max(0) as u64;
        // Wake at least once a second to notice `stop`.
        tokio::time::sleep(Duration::from_millis(wait.min(1000))).await;
        if now_ms() < due || stop.load(Ordering::Relaxed) {
            continue;
        }
        let dir = schedule.dir.join(scheduled_name(now_ms()));
        match backups.take(&dir, true).await {
            Ok(t) => {
                let c = t.check.as_ref();
                tracing::info!(
                    dir = %dir.display(),
                    checkpoint = t.manifest.checkpoint,
                    restore_check_ok = c.is_some_and(|c| c.ok),
                    "scheduled backup taken"
                );
                if let Some(c) = c.filter(|c| !c.ok) {
                    tracing::error!(dir = %dir.display(), error = ?c.error, differences = c.differences, first = ?c.first_differences, "a scheduled backup failed its restore check");
                }
            }
            Err(e) => {
                tracing::error!(dir = %dir.display(), error = %e, "scheduled backup failed");
            }
        }
        for old in prune(&schedule.dir, schedule.keep) {
            tracing::info!(dir = %old.display(), "removed an old backup (store.backup-keep)");
        }
        due = now_ms() + interval_ms;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Config;
    use crate::pipeline::{Inflight, Ingest, SourcePos};
    use crate::sim::Simulator;
    use crate::store::{AuditSource, EmbeddedStore, WriteBehind};
    use pitboss_actors::shell::{NullSink, Position, Runtime};

    /// Feeds a small simulated network into a runtime over the embedded store in `dir`,
    /// taking a checkpoint (with its input position) every `every` events.
    struct Feeder {
        rt: Arc<Runtime>,
        store: Arc<EmbeddedStore>,
        ingest: Ingest,
        inflight: Inflight,
        sim: Simulator,
        sent: i64,
    }

    impl Feeder {
        fn start(dir: &Path) -> Self {
            let mut cfg = Config::load_with_env(None, Vec::new()).unwrap();
            cfg.sim.halls = 2;
            cfg.sim.machines_per_hall = 10;
            cfg.sim.players = 20;
            cfg.sim.progressive_hit_per_million = 20_000;
            cfg.runtime.arbiters = 1;
            let store = Arc::new(WriteBehind::new(Redb::open(dir).unwrap()));
            let rt = Runtime::start(
                cfg.runtime_config().unwrap(),
                Arc::new(NullSink::default()),
                store.clone(),
                Arc::new(crate::rng::KeyedHitPoints::new(
                    &cfg.runtime.hit_point_secret,
                )),
                Arc::new(pitboss_actors::shell::SystemClock),
            );
            Self {
                ingest: Ingest::new(rt.clone()),
                inflight: Inflight::new(256),
                sim: Simulator::new(&cfg).unwrap(),
                rt,
                store,
                sent: 0,
            }
        }

        async fn feed(&mut self, n: usize, every: usize) {
            for _ in 0..n.div_ceil(every) {
                // Batches of 50 (`every` is a multiple): at most 256 events in flight.
                for _ in 0..every.div_ceil(50) {
                    let ack = self.inflight.begin(50, |ok| assert!(ok)).await;
                    for _ in 0..50 {
                        let m = self.sim.next(1_800_000_000_000 + self.sent * 20);
                        let pos = SourcePos {
                            partition: 0,
                            offset: self.sent,
                        };
                        self.sent += 1;
                        self.ingest
                            .process(&m.bytes, Some(m.key.as_bytes()), pos, &ack)
                            .await;
                    }
                }
                self.inflight.drained().await;
                self.rt.quiesce().await;
                self.rt.store.stash_position(Position {
                    topic: "in".into(),
                    partition: 0,
                    next_offset: self.sent,
                });
                assert!(crate::store::checkpoint(&self.rt).await.unwrap());
            }
        }

        fn backups(&self) -> Backups {
            Backups::new(self.store.backend().clone())
        }
    }

    /// Every stored state with its movement count, by key.
    async fn entities(
        src: &dyn AuditSource,
    ) -> BTreeMap<String, (pitboss_actors::shell::Snapshot, u64)> {
        src.entities()
            .await
            .unwrap()
            .into_iter()
            .map(|s| (format!("{:?}", s.snapshot.key()), (s.snapshot, s.movements)))
            .collect()
    }

    #[actix_rt::test]
    async fn a_backup_restores_the_same_rows_and_audits_clean() {
        let dir = tempfile::tempdir().unwrap();
        let mut f = Feeder::start(&dir.path().join("data"));
        f.feed(3_000, 500).await;
        let to = dir.path().join("backup");
        let t = f.backups().take(&to, true).await.unwrap();
        assert_eq!(t.dir, to);
        let m = &t.manifest;
        assert_eq!(m.consumed("in"), 3_000, "{m:?}");
        assert!(m.checkpoint >= 1 && m.rows["entities"] > 0 && m.rows["journal"] > 0);
        let c = t.check.expect("checked");
        assert!(c.ok && c.error.is_none() && c.entities > 0, "{c:?}");
        assert!(!to.join(CHECK_DIR).exists(), "the scratch copy is removed");
        let written: CheckReport =
            serde_json::from_slice(&fs::read(to.join(CHECK)).unwrap()).unwrap();
        assert_eq!(written, c);
        assert_eq!(f.backups().status(), Status::default(), "a new service");

        let restored = dir.path().join("restored");
        let r = restore_into(&to, &restored).await.unwrap();
        assert!(r.audit.ok(), "{:?}", r.audit.differences);
        assert_eq!(r.audit.positions, 1);
        let copy = Redb::open(&restored).unwrap();
        assert_eq!(
            entities(&copy).await,
            entities(f.store.backend().as_ref()).await
        );
        // A restore never lands on a store that is there.
        let e = restore_into(&to, &restored).await.unwrap_err();
        assert!(matches!(e, BackupError::NotEmpty { .. }), "{e}");
        assert!(e.to_string().contains("pitboss.redb"), "{e}");
        // Nor a backup on one.
        let e = f.backups().take(&to, false).await.unwrap_err();
        assert!(e.to_string().contains("not empty"), "{e}");
    }

    /// Backups taken while checkpoints keep committing each see one whole checkpoint: the
    /// audit of each restored copy finds the ledger and the states in agreement, at the
    /// input position of a checkpoint.
    #[actix_rt::test]
    async fn backups_taken_while_checkpoints_commit_are_whole_checkpoints() {
        let dir = tempfile::tempdir().unwrap();
        let mut f = Feeder::start(&dir.path().join("data"));
        f.feed(500, 100).await;
        let backups = Arc::new(f.backups());
        let stop = Arc::new(AtomicBool::new(false));
        let taker = {
            let (b, stop, dir) = (backups.clone(), stop.clone(), dir.path().to_path_buf());
            actix_rt::spawn(async move {
                let mut taken = Vec::new();
                while !stop.load(Ordering::SeqCst) {
                    let to = dir.join(format!("b{}", taken.len()));
                    taken.push(b.take(&to, true).await.unwrap());
                }
                taken
            })
        };
        f.feed(4_000, 100).await;
        stop.store(true, Ordering::SeqCst);
        let taken = taker.await.unwrap();
        assert!(!taken.is_empty());
        for t in &taken {
            let c = t.check.as_ref().unwrap();
            assert!(c.ok, "{}: {c:?}", t.dir.display());
            assert_eq!(t.manifest.consumed("in") % 100, 0, "{:?}", t.manifest);
        }
        let status = backups.status();
        assert!(status.backup.unwrap().1 && status.check.unwrap().1);
    }

    #[actix_rt::test]
    async fn a_damaged_backup_is_refused_and_leaves_nothing_behind() {
        let dir = tempfile::tempdir().unwrap();
        let mut f = Feeder::start(&dir.path().join("data"));
        f.feed(1_000, 500).await;
        let to = dir.path().join("backup");
        f.backups().take(&to, false).await.unwrap();
        let file = to.join(embedded::FILE_NAME);
        let mut bytes = fs::read(&file).unwrap();
        let mid = bytes.len() / 2;
        bytes[mid] ^= 0x55;
        fs::write(&file, &bytes).unwrap();
        let target = dir.path().join("restored");
        let e = restore_into(&to, &target).await.unwrap_err();
        assert!(matches!(e, BackupError::Corrupt { .. }), "{e}");
        assert!(e.to_string().contains("SHA-256"), "{e}");
        assert!(!target.exists(), "nothing is left of a refused restore");
        let c = check(&to).await.unwrap();
        assert!(!c.ok && c.error.as_deref().is_some_and(|e| e.contains("SHA-256")));

        fs::remove_file(to.join(MANIFEST)).unwrap();
        let e = restore_into(&to, &target).await.unwrap_err();
        assert!(e.to_string().contains("no manifest.json"), "{e}");
        fs::write(to.join(MANIFEST), r#"{"format": 99}"#).unwrap();
        let e = restore_into(&to, &target).await.unwrap_err();
        assert!(e.to_string().contains("manifest format 99 is newer"), "{e}");
    }

    #[actix_rt::test]
    async fn an_offline_backup_needs_the_file_unlocked() {
        let dir = tempfile::tempdir().unwrap();
        let data = dir.path().join("data");
        let e = take_offline(&data, &dir.path().join("x"), false)
            .await
            .unwrap_err();
        assert!(matches!(e, BackupError::NoStore(_)), "{e}");
        let mut f = Feeder::start(&data);
        f.feed(500, 250).await;
        let e = take_offline(&data, &dir.path().join("x"), false)
            .await
            .unwrap_err();
        assert!(matches!(e, BackupError::Locked(_)), "{e}");
        assert!(!dir.path().join("x").exists());
        let want = entities(f.store.backend().as_ref()).await;
        f.rt.stop();
        drop(f);
        // The file is unlocked once the stopped runtime's actors have let go of the store.
        let deadline = std::time::Instant::now() + Duration::from_secs(30);
        let t = loop {
            match take_offline(&data, &dir.path().join("x"), true).await {
                Err(BackupError::Locked(_)) if std::time::Instant::now() < deadline => {
                    tokio::time::sleep(Duration::from_millis(25)).await
                }
                r => break r.unwrap(),
            }
        };
        assert!(t.check.unwrap().ok);
        assert_eq!(t.manifest.consumed("in"), 500);
        let restored = dir.path().join("r");
        restore_into(&dir.path().join("x"), &restored)
            .await
            .unwrap();
        assert_eq!(entities(&Redb::open(&restored).unwrap()).await, want);
    }

    /// A table added to the layout later is copied (bytes to bytes) and restored; one of
    /// another type stops the backup instead of being left out.
    #[actix_rt::test]
    async fn tables_unknown_to_this_module_are_copied_or_refused() {
        let dir = tempfile::tempdir().unwrap();
        let data = dir.path().join("data");
        drop(Redb::open(&data).unwrap());
        let path = data.join(embedded::FILE_NAME);
        let db = Database::open(&path).unwrap();
        let w = db.begin_write().unwrap();
        w.open_table(TableDefinition::<&[u8], &[u8]>::new("added_later"))
            .unwrap()
            .insert(&b"k"[..], &b"v"[..])
            .unwrap();
        w.commit().unwrap();
        let m = backup_from(&db, &path, &dir.path().join("b")).unwrap();
        assert_eq!(m.rows["added_later"], 1);
        let restored = dir.path().join("r");
        restore_into(&dir.path().join("b"), &restored)
            .await
            .unwrap();
        let copy = Database::open(restored.join(embedded::FILE_NAME)).unwrap();
        let r = copy.begin_read().unwrap();
        let t = r
            .open_table(TableDefinition::<&[u8], &[u8]>::new("added_later"))
            .unwrap();
        assert_eq!(t.get(&b"k"[..]).unwrap().unwrap().value(), b"v");

        let w = db.begin_write().unwrap();
        w.open_table(TableDefinition::<&str, u64>::new("typed_later"))
            .unwrap()
            .insert("k", 1)
            .unwrap();
        w.commit().unwrap();
        let e = backup_from(&db, &path, &dir.path().join("c")).unwrap_err();
        assert!(e.to_string().contains("table `typed_later`"), "{e}");
        assert!(!dir.path().join("c").exists());
    }

    #[test]
    fn prune_keeps_the_newest_finished_backups_and_drops_unfinished_ones() {
        let dir = tempfile::tempdir().unwrap();
        let manifest = |at: i64| Manifest {
            format: MANIFEST_FORMAT,
            store_layout: FORMAT,
            pitboss_version: "test".into(),
            created_at_ms: at,
            created_at: crate::clock::rfc3339(at),
            checkpoint: 0,
            positions: Vec::new(),
            rows: BTreeMap::new(),
            file: embedded::FILE_NAME.into(),
            file_bytes: 0,
            file_sha256: String::new(),
            content_sha256: String::new(),
        };
        let mut names = Vec::new();
        for i in 0..4 {
            let at = 1_700_000_000_000 + i * 1000;
            let d = dir.path().join(scheduled_name(at));
            fs::create_dir(&d).unwrap();
            fs::write(d.join(MANIFEST), serde_json::to_vec(&manifest(at)).unwrap()).unwrap();
            names.push(d);
        }
        let unfinished = dir.path().join(scheduled_name(1_600_000_000_000));
        fs::create_dir(&unfinished).unwrap();
        let other = dir.path().join("keep-me");
        fs::create_dir(&other).unwrap();
        assert_eq!(
            names[0].file_name().unwrap().to_str().unwrap(),
            "pitboss-20231114T221320.000Z"
        );
        let removed = prune(dir.path(), 2);
        assert_eq!(
            removed,
            vec![unfinished.clone(), names[0].clone(), names[1].clone()]
        );
        assert!(names[2].exists() && names[3].exists() && other.exists());
        let b = Backups::new(Arc::new(Redb::open(&dir.path().join("s")).unwrap()));
        b.adopt_newest(dir.path());
        assert_eq!(b.status().backup, Some((1_700_000_003_000, true)));
    }

    #[actix_rt::test]
    async fn the_schedule_takes_checks_and_rotates_backups() {
        let dir = tempfile::tempdir().unwrap();
        let mut f = Feeder::start(&dir.path().join("data"));
        f.feed(500, 250).await;
        let backups = Arc::new(f.backups());
        let schedule = Schedule {
            dir: dir.path().join("backups"),
            interval: Duration::from_secs(1),
            keep: 1,
        };
        let stop = Arc::new(AtomicBool::new(false));
        let job = actix_rt::spawn(run_schedule(
            backups.clone(),
            schedule.clone(),
            stop.clone(),
        ));
        let deadline = std::time::Instant::now() + Duration::from_secs(60);
        let finished = |d: &Path| {
            scheduled(d)
                .into_iter()
                .filter(|(_, m)| m.is_some())
                .map(|(p, _)| p)
                .collect::<Vec<_>>()
        };
        let first = loop {
            if let [one] = &finished(&schedule.dir)[..] {
                if backups.status().check.is_some() {
                    break one.clone();
                }
            }
            assert!(std::time::Instant::now() < deadline, "no scheduled backup");
            tokio::time::sleep(Duration::from_millis(25)).await;
        };
        f.feed(500, 250).await;
        loop {
            let now = finished(&schedule.dir);
            if now.len() == 1 && now[0] != first {
                break;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "no second backup: {now:?}"
            );
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
        stop.store(true, Ordering::SeqCst);
        job.await.unwrap();
        let s = backups.status();
        assert!(s.backup.unwrap().1 && s.check.unwrap().1, "{s:?}");
        assert!(!first.exists(), "backup-keep = 1 removed the older one");
        let newest = &finished(&schedule.dir)[0];
        let c: CheckReport =
            serde_json::from_slice(&fs::read(newest.join(CHECK)).unwrap()).unwrap();
        assert!(c.ok, "{c:?}");
    }
}
