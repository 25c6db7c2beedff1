//! How the API runs a request: [`LedgerSchema`] is async-graphql's schema behind two steps taken
//! before execution.
//!
//! 1. The parsed document comes from [`DocumentCache`] when the same text was sent before:
//!    clients send the same few documents over and over with other variables (an agent's
//!    screen, a caller lookup), and parsing one cost more than copying its syntax tree (6% of
//!    the server's CPU on a timeline page).
//! 2. While introspection is off, a document selecting `__schema` or `__type` is refused
//!    (`introspection.rs`).
//!
//! Neither is an async-graphql extension on purpose: a schema with any extension sends every
//! resolved field through the extension chain (a registry lookup and a boxed future per field),
//! which cost about a third of the throughput of a timeline page with introspection off.
//! Everything that runs a request (the HTTP handlers, the websocket, the tests) goes through
//! [`LedgerSchema`], so no path skips the refusal.

use std::collections::HashMap;
use std::future::Future;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use async_graphql::futures_util::stream::{self, BoxStream, FuturesOrdered, StreamExt};
use async_graphql::parser::types::ExecutableDocument;
use async_graphql::{
    BatchRequest, BatchResponse, Data, Executor, Request, Response, Schema, ServerError,
};

use crate::{MutationRoot, QueryRoot, SubscriptionRoot, introspection};

/// Documents kept at most. A deployment's clients send a few dozen distinct documents (their
/// screens); when a client sends ever new texts (hand-written queries, a scanner), the cache
/// is emptied and refilled rather than grown, so it never holds more than this.
pub const CACHED_DOCUMENTS_MAX: usize = 256;

/// The longest document text kept: far above the API's own screens (under 1 KiB), and small
/// enough that the cache holds at most `CACHED_DOCUMENTS_MAX` × 4 KiB = 1 MiB of text besides
/// the trees. A longer document is parsed on each request, as any document was before.
pub const CACHED_DOCUMENT_BYTES_MAX: usize = 4 * 1024;

/// The schema the server serves: async-graphql's schema, with parsed documents cached and
/// introspection refused while it is off.
#[derive(Clone)]
pub struct LedgerSchema {
    schema: Schema<QueryRoot, MutationRoot, SubscriptionRoot>,
    documents: Arc<DocumentCache>,
    introspection: bool,
}

impl std::fmt::Debug for LedgerSchema {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("LedgerSchema")
            .field("documents", &self.documents.len())
            .field("introspection", &self.introspection)
            .finish_non_exhaustive()
    }
}

impl LedgerSchema {
    pub(crate) fn new(
        schema: Schema<QueryRoot, MutationRoot, SubscriptionRoot>,
        introspection: bool,
    ) -> Self {
        Self {
            schema,
            documents: Arc::new(DocumentCache::default()),
            introspection,
        }
    }

    /// Runs a query or mutation.
    pub async fn execute(&self, request: impl Into<Request>) -> Response {
        let mut request = request.into();
        match self.prepare(&mut request) {
            None => self.schema.execute(request).await,
            Some(refusal) => Response::from_errors(vec![refusal]),
        }
    }

    /// Runs each request of a batch, concurrently as async-graphql does, answering in order.
    pub async fn execute_batch(&self, batch: BatchRequest) -> BatchResponse {
        match batch {
            BatchRequest::Single(request) => BatchResponse::Single(self.execute(request).await),
            BatchRequest::Batch(requests) => BatchResponse::Batch(
                requests
                    .into_iter()
                    .map(|request| self.execute(request))
                    .collect::<FuturesOrdered<_>>()
                    .collect()
                    .await,
            ),
        }
    }

    /// Runs a subscription (or a query or mutation, answered as a one-item stream).
    pub fn execute_stream(&self, request: impl Into<Request>) -> BoxStream<'static, Response> {
        self.stream_with(request.into(), None)
    }

    /// The documents parsed and kept so far.
    pub fn cached_documents(&self) -> usize {
        self.documents.len()
    }

    fn stream_with(
        &self,
        mut request: Request,
        session_data: Option<Arc<Data>>,
    ) -> BoxStream<'static, Response> {
        match self.prepare(&mut request) {
            None => Executor::execute_stream(&self.schema, request, session_data),
            Some(refusal) => {
                let response = Response::from_errors(vec![refusal]);
                stream::once(async move { response }).boxed()
            }
        }
    }

    /// Gives the request its parsed document; the error refusing it before anything runs, if
    /// it is refused. A document that does not parse goes on unparsed: async-graphql reports
    /// its error.
    fn prepare(&self, request: &mut Request) -> Option<ServerError> {
        if !self.documents.parse(request) || self.introspection {
            return None;
        }
        introspection::refusal(request.parsed_query().ok()?)
    }
}

/// The websocket handler (`async-graphql-axum`) runs requests through this.
impl Executor for LedgerSchema {
    fn execute(&self, request: Request) -> impl Future<Output = Response> + Send {
        LedgerSchema::execute(self, request)
    }

    fn execute_stream(
        &self,
        request: Request,
        session_data: Option<Arc<Data>>,
    ) -> BoxStream<'static, Response> {
        self.stream_with(request, session_data)
    }
}

/// Parsed documents, by their text. Execution changes its copy of a document (`@skip` and
/// `@include` remove selections), so each request gets its own clone of the kept tree.
#[derive(Debug, Default)]
pub struct DocumentCache {
    documents: Mutex<HashMap<Arc<str>, ExecutableDocument>>,
}

impl DocumentCache {
    /// Gives `request` its parsed document, kept from an earlier request with the same text or
    /// parsed now (and kept, if short enough). False when the document does not parse; the
    /// request then stays unparsed.
    pub fn parse(&self, request: &mut Request) -> bool {
        let keep = request.query.len() <= CACHED_DOCUMENT_BYTES_MAX;
        if keep && let Some(document) = self.lock().get(request.query.as_str()) {
            request.set_parsed_query(document.clone());
            return true;
        }
        let Ok(document) = request.parsed_query() else {
            return false;
        };
        if keep {
            let document = document.clone();
            let mut documents = self.lock();
            if documents.len() >= CACHED_DOCUMENTS_MAX {
                documents.clear();
            }
            documents.insert(Arc::from(request.query.as_str()), document);
        }
        true
    }

    /// The documents kept now.
    pub fn len(&self) -> usize {
        self.lock().len()
    }

    /// Whether none is kept.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn lock(&self) -> MutexGuard<'_, HashMap<Arc<str>, ExecutableDocument>> {
        // A panic cannot leave the map half-changed (an insert or a clear either happened or
        // not), so a lock poisoned by one is still sound to use.
        self.documents
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const DOCUMENT: &str = "query Screen($id: ID!) { customer(id: $id) { id } }";

    #[test]
    fn a_document_sent_again_comes_from_the_cache() {
        let cache = DocumentCache::default();
        let mut first = Request::new(DOCUMENT);
        assert!(cache.parse(&mut first));
        assert_eq!(cache.len(), 1);
        let mut second = Request::new(DOCUMENT);
        assert!(cache.parse(&mut second));
        assert_eq!(cache.len(), 1);
        let parsed = second.parsed_query().expect("the cached document");
        assert_eq!(parsed.operations.iter().count(), 1);
    }

    #[test]
    fn a_document_that_does_not_parse_is_not_kept() {
        let cache = DocumentCache::default();
        let mut request = Request::new("{ customer(id: ");
        assert!(!cache.parse(&mut request));
        assert!(cache.is_empty());
    }

    #[test]
    fn a_long_document_is_parsed_but_not_kept() {
        let cache = DocumentCache::default();
        let padding = " ".repeat(CACHED_DOCUMENT_BYTES_MAX);
        let mut request = Request::new(format!("{{ viewer {{ role }} }}{padding}"));
        assert!(cache.parse(&mut request));
        assert!(cache.is_empty());
    }

    #[test]
    fn a_full_cache_is_emptied_rather_than_grown() {
        let cache = DocumentCache::default();
        for alias in 0..=CACHED_DOCUMENTS_MAX {
            let mut request = Request::new(format!("{{ a{alias}: viewer {{ role }} }}"));
            assert!(cache.parse(&mut request));
            assert!(cache.len() <= CACHED_DOCUMENTS_MAX);
        }
        assert_eq!(cache.len(), 1);
    }
}
