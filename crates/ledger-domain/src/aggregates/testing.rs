//! Given / when / then for aggregate tests: given these events, when this command, then these
//! events (or this error).

use jiff::Timestamp;

use super::{Aggregate, FixedContext, fold};
use crate::DomainError;
use crate::events::Event;
use crate::samples;

/// A scenario under construction: the history and the context of the decision.
pub(crate) struct Given<A> {
    aggregate: A,
    context: FixedContext,
}

/// Starts a scenario from an aggregate's history. The context's clock is the samples' time,
/// and no identifier is owned.
pub(crate) fn given<A: Aggregate>(history: &[Event]) -> Given<A> {
    Given {
        aggregate: fold(history),
        context: FixedContext::at(samples::sample_time()),
    }
}

impl<A: Aggregate> Given<A> {
    /// The same scenario with a different decision context.
    pub(crate) fn with_context(mut self, context: FixedContext) -> Self {
        self.context = context;
        self
    }

    /// The same scenario decided at `now`.
    pub(crate) fn at(mut self, now: Timestamp) -> Self {
        self.context.now = now;
        self
    }

    pub(crate) fn when(self, command: impl Into<A::Command>) -> Then<A> {
        let result = self.aggregate.handle(&command.into(), &self.context);
        Then {
            aggregate: self.aggregate,
            result,
        }
    }
}

/// The outcome of a decision, to be checked.
pub(crate) struct Then<A> {
    aggregate: A,
    result: Result<Vec<Event>, DomainError>,
}

impl<A: Aggregate> Then<A> {
    /// The command produced exactly `expected`. Also checks what every decision must satisfy:
    /// the events pass their payload rules, go to one stream of this aggregate's category, and
    /// fold without trouble.
    #[track_caller]
    pub(crate) fn then(self, expected: &[Event]) -> A {
        let events = match self.result {
            Ok(events) => events,
            Err(error) => panic!("expected events, got the error {error:?}"),
        };
        assert_eq!(events, expected);
        let mut aggregate = self.aggregate;
        for event in &events {
            assert_eq!(
                event.validate(),
                Ok(()),
                "{} breaks its payload rules",
                event.event_type()
            );
            assert_eq!(
                event.stream(),
                events[0].stream(),
                "one command appends to one stream"
            );
            aggregate.apply(event);
        }
        if let Some(first) = events.first() {
            assert_eq!(
                first.stream().category(),
                A::CATEGORY,
                "{} on the wrong stream",
                first.event_type()
            );
        }
        aggregate
    }

    /// The command changed nothing: no events, no error.
    #[track_caller]
    pub(crate) fn then_nothing(self) {
        self.then(&[]);
    }

    /// The command was refused with exactly `expected`.
    #[track_caller]
    pub(crate) fn then_error(self, expected: DomainError) {
        match self.result {
            Ok(events) => panic!("expected the error {expected:?}, got events {events:?}"),
            Err(error) => assert_eq!(error, expected),
        }
    }

    /// The command was refused; the error, for checks of its words.
    #[track_caller]
    pub(crate) fn error(self) -> DomainError {
        match self.result {
            Ok(events) => panic!("expected an error, got events {events:?}"),
            Err(error) => error,
        }
    }

    /// The command was refused as invalid input naming `field`.
    #[track_caller]
    pub(crate) fn then_invalid(self, field: &str) {
        match self.result {
            Ok(events) => panic!("expected a validation error on {field}, got events {events:?}"),
            Err(DomainError::Validation(error)) => assert_eq!(error.field, field, "{error}"),
            Err(other) => panic!("expected a validation error on {field}, got {other:?}"),
        }
    }
}
