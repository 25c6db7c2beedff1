//! The network: processes as last published, department trees, orphans and broken links as
//! publications add, move and resolve edges; pages and refused requests.

use super::*;
use crate::{
    BrokenLink, BrokenReason, DEPARTMENT_PROCESSES_MAX, Edge, PAGE_SIZE_MAX, QueryError, TreeNode,
    broken_links, orphans, process, processes, tree,
};

fn orphan_ids(state: &MemoryState) -> Vec<ProcessId> {
    let page = orphans(state, None, PAGE_SIZE_MAX).unwrap();
    page.items
        .into_iter()
        .map(|(_, record)| record.id)
        .collect()
}

fn broken(state: &MemoryState) -> Vec<BrokenLink> {
    let page = broken_links(state, None, PAGE_SIZE_MAX).unwrap();
    page.items.into_iter().map(|(_, link)| link).collect()
}

fn link(source: u16, target: u16, edge: Edge, reason: BrokenReason) -> BrokenLink {
    BrokenLink {
        source: id(source),
        target: id(target),
        edge,
        reason,
    }
}

/// Two departments: a service tree (1 → 2), a claims tree (3 → 5) linked to it, a lone
/// claims process (4), a claims process whose parent is in the service department (6), a
/// service process whose parent is not published yet (7), and a link to an unknown one (9).
fn first_week() -> Ledger {
    let mut ledger = Ledger::new();
    ledger
        .at("2025-01-06T09:00:00", published(1, SERVICE, 1, None, &[]))
        .at(
            "2025-01-06T09:01:00",
            published(2, SERVICE, 1, Some(1), &[]),
        )
        .at("2025-01-06T09:02:00", published(3, CLAIMS, 1, None, &[1]))
        .at("2025-01-06T09:03:00", published(4, CLAIMS, 1, None, &[]))
        .at(
            "2025-01-06T09:04:00",
            published(5, CLAIMS, 1, Some(3), &[9]),
        )
        .at("2025-01-06T09:05:00", published(6, CLAIMS, 1, Some(1), &[]))
        .at(
            "2025-01-06T09:06:00",
            published(7, SERVICE, 1, Some(8), &[]),
        )
        .at("2025-01-06T09:07:00", published(10, SERVICE, 1, None, &[]));
    ledger
}

#[test]
fn orphans_are_processes_nothing_connects_to() {
    let state = first_week().fold();
    // 1 has children and is linked to; 3 has a link; 4 and 10 stand alone.
    assert_eq!(orphan_ids(&state), vec![id(4), id(10)]);
    assert_eq!(
        broken(&state),
        vec![
            link(5, 9, Edge::Link, BrokenReason::UnknownProcess),
            link(6, 1, Edge::Parent, BrokenReason::ParentInOtherDepartment),
            link(7, 8, Edge::Parent, BrokenReason::UnknownProcess),
        ]
    );
}

#[test]
fn later_publications_resolve_and_move_edges() {
    let mut ledger = first_week();
    ledger
        // The missing parent and link target are published: their edges resolve.
        .at("2025-02-03T09:00:00", published(8, SERVICE, 1, None, &[]))
        .at("2025-02-03T09:01:00", published(9, CLAIMS, 1, None, &[]))
        // 10 gains a link (no longer an orphan); 4 gains a parent (same).
        .at("2025-02-03T09:02:00", published(10, SERVICE, 2, None, &[1]))
        .at("2025-02-03T09:03:00", published(4, CLAIMS, 2, Some(3), &[]))
        // 6 moves to the service department: its parent is now in its own department.
        .at(
            "2025-02-03T09:04:00",
            published(6, SERVICE, 3, Some(1), &[]),
        )
        // An older version arriving late changes nothing.
        .at("2025-02-03T09:05:00", published(6, CLAIMS, 2, None, &[]));
    let state = ledger.fold();
    assert_eq!(orphan_ids(&state), vec![]);
    assert_eq!(broken(&state), vec![]);
    let six = process(&state, id(6)).unwrap().unwrap();
    assert_eq!(
        (six.version, six.publications, six.department.as_str()),
        (3, 2, SERVICE)
    );
    assert_eq!(
        six.first_published_at,
        "2025-01-06T09:05:00+08:00".parse().unwrap()
    );

    // 10 drops its link again: an orphan once more; 1 keeps its children.
    ledger.at("2025-03-03T09:00:00", published(10, SERVICE, 3, None, &[]));
    let state = ledger.fold();
    assert_eq!(orphan_ids(&state), vec![id(10)]);
    // The service department moves to a new parent that is in claims: broken again.
    ledger.at("2025-03-03T09:01:00", published(1, CLAIMS, 2, None, &[]));
    let state = ledger.fold();
    assert_eq!(
        broken(&state),
        vec![
            link(2, 1, Edge::Parent, BrokenReason::ParentInOtherDepartment),
            link(6, 1, Edge::Parent, BrokenReason::ParentInOtherDepartment),
        ]
    );
}

fn node(n: u16, state: &MemoryState, children: Vec<TreeNode>) -> TreeNode {
    TreeNode {
        process: process(state, id(n)).unwrap().unwrap(),
        children,
    }
}

#[test]
fn a_department_is_a_tree_with_cycles_set_apart() {
    let mut ledger = first_week();
    ledger
        .at("2025-02-03T09:00:00", published(8, SERVICE, 1, None, &[]))
        .at(
            "2025-02-03T09:01:00",
            published(11, SERVICE, 1, Some(12), &[]),
        )
        .at(
            "2025-02-03T09:02:00",
            published(12, SERVICE, 1, Some(11), &[]),
        );
    let state = ledger.fold();
    let service = tree(&state, &title(SERVICE)).unwrap();
    assert_eq!(
        service.roots,
        vec![
            node(1, &state, vec![node(2, &state, vec![])]),
            node(8, &state, vec![node(7, &state, vec![])]),
            node(10, &state, vec![]),
        ]
    );
    let cycle: Vec<_> = service.in_cycles.iter().map(|record| record.id).collect();
    assert_eq!(cycle, vec![id(11), id(12)]);
    // 6's parent is in another department: a root of its own tree.
    let claims = tree(&state, &title(CLAIMS)).unwrap();
    assert_eq!(
        claims.roots,
        vec![
            node(3, &state, vec![node(5, &state, vec![])]),
            node(4, &state, vec![]),
            node(6, &state, vec![]),
        ]
    );
    assert!(tree(&state, &title("信息技术部")).unwrap().roots.is_empty());
    assert_eq!(DEPARTMENT_PROCESSES_MAX, 1_000);
}

#[test]
fn processes_page_by_department_and_refuse_bad_requests() {
    let state = first_week().fold();
    let service = processes(&state, Some(&title(SERVICE)), None, 10).unwrap();
    let ids: Vec<_> = service.items.iter().map(|(_, record)| record.id).collect();
    assert_eq!(ids, vec![id(1), id(2), id(7), id(10)]);
    let first = processes(&state, None, None, 3).unwrap();
    assert!(first.has_next_page);
    let rest = processes(&state, None, Some(&first.items[2].0), PAGE_SIZE_MAX).unwrap();
    let ids: Vec<_> = rest.items.iter().map(|(_, record)| record.id).collect();
    assert_eq!(ids, vec![id(4), id(5), id(6), id(7), id(10)]);
    assert!(!rest.has_next_page);

    assert_eq!(
        processes(&state, None, None, PAGE_SIZE_MAX + 1),
        Err(QueryError::PageTooLarge {
            requested: PAGE_SIZE_MAX + 1,
            max: PAGE_SIZE_MAX
        })
    );
    let orphan_cursor = first.items[0].0.replacen("process", "orphan", 1);
    for bad in ["process:", "process:00", orphan_cursor.as_str(), "x"] {
        assert_eq!(
            processes(&state, None, Some(bad), 1),
            Err(QueryError::BadCursor),
            "{bad}"
        );
    }
    assert_eq!(
        broken_links(&state, Some("broken:00"), 1),
        Err(QueryError::BadCursor)
    );
    assert_eq!(
        orphans(&state, None, PAGE_SIZE_MAX + 1).unwrap_err(),
        QueryError::PageTooLarge {
            requested: PAGE_SIZE_MAX + 1,
            max: PAGE_SIZE_MAX
        }
    );
    let page = broken_links(&state, None, 1).unwrap();
    let next = broken_links(&state, Some(&page.items[0].0), 10).unwrap();
    assert_eq!(next.items.len(), 2);
}
