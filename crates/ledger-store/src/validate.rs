//! Checks on requests made before they reach the writer: limits and shape. They run on the
//! caller's task, so the single writer only does what needs the log's state.

use std::collections::HashSet;

use crate::error::{AppendError, ImportError};
use crate::limits::{
    EVENT_TYPE_BYTES_MAX, EVENTS_PER_REQUEST_MAX, GROUP_PAYLOAD_BYTES_MAX, IMPORT_RECORDS_MAX,
    ORIGIN_BYTES_MAX, PAYLOAD_BYTES_MAX, REQUEST_PAYLOAD_BYTES_MAX,
};
use crate::record::{encode_record, record_hash};
use crate::types::{AppendRequest, NewEvent, RecordedEvent};

/// Checks an append request; on success returns its payload bytes.
pub(crate) fn check_append(request: &AppendRequest) -> Result<usize, AppendError> {
    if request.events.is_empty() {
        return Err(AppendError::invalid(
            "events",
            "an append carries at least one event",
        ));
    }
    if request.events.len() > EVENTS_PER_REQUEST_MAX {
        return Err(AppendError::invalid(
            "events",
            format!(
                "at most EVENTS_PER_REQUEST_MAX = {EVENTS_PER_REQUEST_MAX} events per append (got {})",
                request.events.len()
            ),
        ));
    }
    let mut seen = HashSet::with_capacity(request.events.len());
    let mut payload_bytes = 0_usize;
    for (index, event) in request.events.iter().enumerate() {
        check_event(event).map_err(|(field, rule)| {
            AppendError::invalid(format!("events[{index}].{field}"), rule)
        })?;
        if !seen.insert(event.event_id) {
            return Err(AppendError::invalid(
                format!("events[{index}].event_id"),
                format!(
                    "event id {} appears more than once in this request",
                    event.event_id
                ),
            ));
        }
        payload_bytes = payload_bytes.saturating_add(event.payload.len());
    }
    if payload_bytes > REQUEST_PAYLOAD_BYTES_MAX {
        return Err(AppendError::invalid(
            "events",
            format!(
                "at most REQUEST_PAYLOAD_BYTES_MAX = {REQUEST_PAYLOAD_BYTES_MAX} payload bytes per append (got {payload_bytes})"
            ),
        ));
    }
    Ok(payload_bytes)
}

/// The limits on one event; the error is (field within the event, rule).
fn check_event(event: &NewEvent) -> Result<(), (&'static str, String)> {
    if event.event_type.is_empty() || event.event_type.len() > EVENT_TYPE_BYTES_MAX {
        return Err((
            "event_type",
            format!(
                "an event type is 1 to EVENT_TYPE_BYTES_MAX = {EVENT_TYPE_BYTES_MAX} bytes (got {})",
                event.event_type.len()
            ),
        ));
    }
    if let Some(origin) = &event.origin
        && (origin.is_empty() || origin.len() > ORIGIN_BYTES_MAX)
    {
        return Err((
            "origin",
            format!(
                "an origin, when given, is 1 to ORIGIN_BYTES_MAX = {ORIGIN_BYTES_MAX} bytes (got {})",
                origin.len()
            ),
        ));
    }
    if event.payload.len() > PAYLOAD_BYTES_MAX {
        return Err((
            "payload",
            format!(
                "at most PAYLOAD_BYTES_MAX = {PAYLOAD_BYTES_MAX} bytes per event payload (got {})",
                event.payload.len()
            ),
        ));
    }
    Ok(())
}

/// An exported record, checked on its own and against its predecessor in the call, with its
/// canonical bytes ready for the writer.
#[derive(Debug)]
pub(crate) struct ImportRecord {
    pub record: RecordedEvent,
    pub bytes: Vec<u8>,
}

/// Checks an import call: limits, each record's hash, and the chain inside the call. What
/// depends on the store (the head, stream versions, known ids) is the writer's to check.
pub(crate) fn check_import(
    records: Vec<RecordedEvent>,
) -> Result<(Vec<ImportRecord>, usize), ImportError> {
    if records.is_empty() {
        return Err(ImportError::Invalid {
            field: "records".into(),
            rule: "an import carries at least one record".into(),
        });
    }
    if records.len() > IMPORT_RECORDS_MAX {
        return Err(ImportError::Invalid {
            field: "records".into(),
            rule: format!(
                "at most IMPORT_RECORDS_MAX = {IMPORT_RECORDS_MAX} records per import call (got {})",
                records.len()
            ),
        });
    }
    let mut checked: Vec<ImportRecord> = Vec::with_capacity(records.len());
    let mut payload_bytes = 0_usize;
    for record in records {
        let rejected = |rule: String| ImportError::Rejected {
            position: record.position,
            rule,
        };
        check_event(&record.event).map_err(|(field, rule)| rejected(format!("{field}: {rule}")))?;
        if record.stream_version == 0 {
            return Err(rejected("stream versions start at 1".into()));
        }
        if let Some(previous) = checked.last() {
            if record.position != previous.record.position.next() {
                return Err(rejected(format!(
                    "positions must be contiguous: it follows position {}",
                    previous.record.position
                )));
            }
            if record.prev_hash != previous.record.hash {
                return Err(rejected(format!(
                    "prev_hash is not the hash of position {}",
                    previous.record.position
                )));
            }
        }
        let bytes = encode_record(&record);
        if record_hash(&record.prev_hash, &bytes) != record.hash {
            return Err(rejected(
                "its hash does not recompute from its fields and prev_hash".into(),
            ));
        }
        payload_bytes = payload_bytes.saturating_add(record.event.payload.len());
        checked.push(ImportRecord { record, bytes });
    }
    if payload_bytes > GROUP_PAYLOAD_BYTES_MAX {
        return Err(ImportError::Invalid {
            field: "records".into(),
            rule: format!(
                "at most GROUP_PAYLOAD_BYTES_MAX = {GROUP_PAYLOAD_BYTES_MAX} payload bytes per import call (got {payload_bytes})"
            ),
        });
    }
    Ok((checked, payload_bytes))
}
