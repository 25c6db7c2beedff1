//! The keyspace layout (described in the crate root): key builders and the checks that tell
//! a real cursor suffix from a forged one.
//!
//! Process ids are hyphenated UUIDs and staff ids never hold `/`, so `{id}/` cannot be the
//! start of another id's keys. A department is a title, which may hold `/` but never a
//! control character, so it is ended by a NUL byte.

use std::str;

use ledger_domain::ids::{ProcessId, StaffId};
use ledger_domain::kinds::Title;

pub(crate) const PROCESS: &[u8] = b"process/";
pub(crate) const DEPARTMENT: &[u8] = b"department/";
pub(crate) const LINK: &[u8] = b"link/";
pub(crate) const CHILD: &[u8] = b"child/";
pub(crate) const ORPHAN: &[u8] = b"orphan/";
pub(crate) const BROKEN: &[u8] = b"broken/";
pub(crate) const TRAINING: &[u8] = b"training/";
pub(crate) const TRAINED: &[u8] = b"trained/";
pub(crate) const STAFF: &[u8] = b"staff/";
/// The number of `staff/` entries.
pub(crate) const STAFF_COUNT: &[u8] = b"staffcount";

/// Which edge a broken link is: a link to another process, or the parent in the tree.
pub(crate) const LINK_EDGE: &str = "link";
pub(crate) const PARENT_EDGE: &str = "parent";

fn key(prefix: &[u8], parts: &[&str]) -> Vec<u8> {
    let mut key = prefix.to_vec();
    for (index, part) in parts.iter().enumerate() {
        if index > 0 {
            key.push(b'/');
        }
        key.extend_from_slice(part.as_bytes());
    }
    key
}

/// `{prefix}{id}/`: the prefix of one process's entries under `prefix`.
pub(crate) fn under(prefix: &[u8], id: ProcessId) -> Vec<u8> {
    let mut key = key(prefix, &[&id.to_string()]);
    key.push(b'/');
    key
}

/// `process/{id}`: a [`crate::ProcessRecord`].
pub(crate) fn process(id: ProcessId) -> Vec<u8> {
    key(PROCESS, &[&id.to_string()])
}

/// `department/{department}\0`: the prefix of a department's processes.
pub(crate) fn department(department: &Title) -> Vec<u8> {
    let mut key = key(DEPARTMENT, &[department.as_str()]);
    key.push(0);
    key
}

/// `department/{department}\0{id}`: the process belongs to the department.
pub(crate) fn department_member(department: &Title, id: ProcessId) -> Vec<u8> {
    let mut key = self::department(department);
    key.extend_from_slice(id.to_string().as_bytes());
    key
}

/// `link/{target}/{source}`: `source`'s current version links to `target`.
pub(crate) fn link(target: ProcessId, source: ProcessId) -> Vec<u8> {
    key(LINK, &[&target.to_string(), &source.to_string()])
}

/// `child/{parent}/{child}`: `child`'s current version names `parent` as its parent.
pub(crate) fn child(parent: ProcessId, child: ProcessId) -> Vec<u8> {
    key(CHILD, &[&parent.to_string(), &child.to_string()])
}

/// `orphan/{id}`: the process is an orphan.
pub(crate) fn orphan(id: ProcessId) -> Vec<u8> {
    key(ORPHAN, &[&id.to_string()])
}

/// `broken/{source}/{target}/{edge}`: a [`crate::BrokenLink`].
pub(crate) fn broken(source: ProcessId, target: ProcessId, edge: &str) -> Vec<u8> {
    key(BROKEN, &[&source.to_string(), &target.to_string(), edge])
}

/// `trained/{process}/{version}`: how many staff were trained on the version.
pub(crate) fn trained(process: ProcessId, version: u32) -> Vec<u8> {
    let mut key = under(TRAINED, process);
    key.extend_from_slice(&version.to_be_bytes());
    key
}

/// `training/{process}/{version}/{staff}`: the staff member was trained on the version.
pub(crate) fn training(process: ProcessId, version: u32, staff: &StaffId) -> Vec<u8> {
    let mut key = under(TRAINING, process);
    key.extend_from_slice(&version.to_be_bytes());
    key.push(b'/');
    key.extend_from_slice(staff.as_str().as_bytes());
    key
}

/// `staff/{staff}`: a member of the training population.
pub(crate) fn staff(staff: &StaffId) -> Vec<u8> {
    key(STAFF, &[staff.as_str()])
}

fn is_process_id(text: &str) -> bool {
    ProcessId::parse("", text).is_ok_and(|id| id.to_string() == text)
}

/// Whether `suffix` is a process id in its canonical spelling.
pub(crate) fn is_process_suffix(suffix: &[u8]) -> bool {
    str::from_utf8(suffix).is_ok_and(is_process_id)
}

/// Whether `suffix` is `{source}/{target}/{edge}` as `broken/` keys are.
pub(crate) fn is_broken_suffix(suffix: &[u8]) -> bool {
    let Ok(text) = str::from_utf8(suffix) else {
        return false;
    };
    let mut parts = text.split('/');
    let (Some(source), Some(target), Some(edge), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return false;
    };
    is_process_id(source) && is_process_id(target) && matches!(edge, LINK_EDGE | PARENT_EDGE)
}

/// Whether `suffix` is a staff id in its canonical spelling.
pub(crate) fn is_staff_suffix(suffix: &[u8]) -> bool {
    str::from_utf8(suffix)
        .is_ok_and(|text| StaffId::parse("", text).is_ok_and(|id| id.as_str() == text))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_department_is_closed_so_no_department_is_the_start_of_another() {
        let short = Title::parse("", "理赔部").unwrap();
        let long = Title::parse("", "理赔部/异地").unwrap();
        let id = ProcessId::parse("", "0190a5e2-8c3b-7d4e-9f00-000000000201").unwrap();
        assert!(!department_member(&long, id).starts_with(&department(&short)));
        assert!(department_member(&short, id).starts_with(&department(&short)));
    }

    #[test]
    fn cursor_suffixes_are_checked() {
        let id = "0190a5e2-8c3b-7d4e-9f00-000000000201";
        assert!(is_process_suffix(id.as_bytes()));
        assert!(!is_process_suffix(b"0190A5E2-8C3B-7D4E-9F00-000000000201"));
        assert!(is_broken_suffix(format!("{id}/{id}/link").as_bytes()));
        assert!(!is_broken_suffix(format!("{id}/{id}/other").as_bytes()));
        assert!(!is_broken_suffix(format!("{id}/{id}").as_bytes()));
        assert!(is_staff_suffix(b"agent-0001"));
        assert!(!is_staff_suffix(b"agent 0001"));
    }
}
