//! One module per figure (or pair of figures): each measures and returns plain numbers; the
//! run (`crate::run`) sets them beside their targets.

pub mod appends;
pub mod disk;
pub mod import;
pub mod reads;
pub mod rebuild;
pub mod subscription;
