//! Figure 1: the disk's own ceiling for durable appends — fixed-size records appended to a
//! plain file, one `fdatasync` per `RAW_RECORDS_PER_SYNC`.

use std::io::Write;
use std::path::Path;
use std::time::{Duration, Instant};

use crate::profile::{RAW_RECORD_BYTES, RAW_RECORDS_PER_SYNC};

/// Appends `records` records to a new file in `dir`, syncing every `RAW_RECORDS_PER_SYNC`
/// and at the end; returns the time taken and the number of syncs. The file is removed.
pub fn raw_appends(dir: &Path, records: u64) -> Result<(Duration, u64), String> {
    let path = dir.join("raw-disk.bin");
    let mut file = std::fs::File::create(&path)
        .map_err(|error| format!("creating {}: {error}", path.display()))?;
    let per_sync = usize::try_from(RAW_RECORDS_PER_SYNC).unwrap_or(usize::MAX);
    let mut batch = Vec::with_capacity(RAW_RECORD_BYTES * per_sync);
    let mut syncs = 0;
    let started = Instant::now();
    let mut written = 0;
    while written < records {
        batch.clear();
        let in_batch = RAW_RECORDS_PER_SYNC.min(records - written);
        for record in written..written + in_batch {
            // Each record differs (its number in its first 8 bytes), as real records do.
            let mut bytes = [0x5a_u8; RAW_RECORD_BYTES];
            bytes[..8].copy_from_slice(&record.to_le_bytes());
            batch.extend_from_slice(&bytes);
        }
        file.write_all(&batch)
            .and_then(|()| file.sync_data())
            .map_err(|error| format!("writing {}: {error}", path.display()))?;
        syncs += 1;
        written += in_batch;
    }
    let elapsed = started.elapsed();
    drop(file);
    std::fs::remove_file(&path).map_err(|error| format!("removing {}: {error}", path.display()))?;
    Ok((elapsed, syncs))
}
