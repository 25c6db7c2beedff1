//! RFC 9162 §2.1 written as literally as it reads, over raw leaf data and raw SHA-256:
//! the independent implementation the tests hold the tree and the verifiers against.
//!
//! It shares no code with the crate (not even its hash functions), recomputes every
//! subtree from the data each time, and is meant to be checked line by line against
//! the RFC's definitions of MTH, PATH and PROOF/SUBPROOF.

use sha2::{Digest, Sha256};

pub type Digest32 = [u8; 32];

fn sha256(parts: &[&[u8]]) -> Digest32 {
    let mut hasher = Sha256::new();
    for part in parts {
        hasher.update(part);
    }
    hasher.finalize().into()
}

/// "the largest power of two smaller than n", found by doubling.
fn split_point(n: usize) -> usize {
    let mut k = 1;
    while k * 2 < n {
        k *= 2;
    }
    k
}

/// MTH(D[n]).
pub fn mth(data: &[Vec<u8>]) -> Digest32 {
    match data.len() {
        0 => sha256(&[]),
        1 => sha256(&[&[0x00], &data[0]]),
        n => {
            let k = split_point(n);
            sha256(&[&[0x01], &mth(&data[..k]), &mth(&data[k..])])
        }
    }
}

/// PATH(m, D[n]).
pub fn path(m: usize, data: &[Vec<u8>]) -> Vec<Digest32> {
    let n = data.len();
    if n <= 1 {
        return Vec::new();
    }
    let k = split_point(n);
    if m < k {
        let mut proof = path(m, &data[..k]);
        proof.push(mth(&data[k..]));
        proof
    } else {
        let mut proof = path(m - k, &data[k..]);
        proof.push(mth(&data[..k]));
        proof
    }
}

/// PROOF(m, D[n]) = SUBPROOF(m, D[n], true).
pub fn proof(m: usize, data: &[Vec<u8>]) -> Vec<Digest32> {
    subproof(m, data, true)
}

fn subproof(m: usize, data: &[Vec<u8>], b: bool) -> Vec<Digest32> {
    let n = data.len();
    if m == n {
        return if b { Vec::new() } else { vec![mth(data)] };
    }
    let k = split_point(n);
    if m <= k {
        let mut proof = subproof(m, &data[..k], b);
        proof.push(mth(&data[k..]));
        proof
    } else {
        let mut proof = subproof(m - k, &data[k..], false);
        proof.push(mth(&data[..k]));
        proof
    }
}
