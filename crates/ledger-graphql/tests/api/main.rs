//! The GraphQL API's integration tests, through `schema.execute` on a real ledger in a
//! temporary directory, one module per area (`access_log`: the record of personal-data reads).

mod access;
mod access_log;
mod agent_rules;
mod audit;
mod calls;
mod conformance;
mod cross_checks;
mod erased_work;
mod erasure;
mod limits;
mod marketing_rules;
mod masking;
mod proofs;
mod read_models;
mod schema;
mod start_position;
mod subscriptions;
mod support;
