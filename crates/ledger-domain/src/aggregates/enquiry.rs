//! The enquiry aggregate (`enquiry-{id}`): an online enquiry from someone the web shop could
//! not identify. Its stream holds the enquiry and, once its personal data is erased, that
//! erasure; the aggregate records the enquiry id once and erases an enquiry it holds once, and its campaign, when it names one, must have been launched. Enquiries from known
//! customers go to the customer's stream instead (see [`crate::events`] for why neither goes
//! to the campaign's stream).

use super::customer::online_enquiry;
use super::links::launched_campaign;
use super::{
    Aggregate, DecisionContext, EnquiryStanding, already_exists, emit, invalid_transition,
    not_found,
};
use crate::commands::{EnquiryCommand, EraseEnquiry, RecordOnlineEnquiry};
use crate::events::{EnquiryErased, Event};
use crate::ids::{CustomerId, EnquiryId};
use crate::{DomainError, ValidationError};

/// Why the enquiry `enquiry`, sent by the known customer `customer`, is not erased on its own
/// (the API, the CLI and import say it in these words).
pub fn erased_with_its_sender(enquiry: EnquiryId, customer: CustomerId) -> ValidationError {
    ValidationError::new(
        "enquiryId",
        format!(
            "an enquiry from someone nobody knew (erased on its own); {enquiry} was sent by \
             customer {customer}, so it is on the customer's stream, sealed under their data \
             key, and is erased with them (erase customer {customer} instead)"
        ),
    )
}

/// Whether the enquiry was received, and whether its personal data was erased.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Enquiry {
    received: Option<EnquiryId>,
    erased: bool,
}

impl Enquiry {
    pub fn is_received(&self) -> bool {
        self.received.is_some()
    }

    pub fn is_erased(&self) -> bool {
        self.erased
    }

    fn record(
        &self,
        command: &RecordOnlineEnquiry,
        context: &dyn DecisionContext,
    ) -> Result<Vec<Event>, DomainError> {
        if command.customer_id.is_some() {
            return Err(ValidationError::new(
                "customerId",
                "an enquiry from a known customer goes to the customer's stream",
            )
            .into());
        }
        if self.received.is_some() {
            return Err(already_exists("enquiry", command.enquiry_id));
        }
        if let Some(campaign) = command.campaign_id {
            launched_campaign(campaign, context)?;
        }
        emit(online_enquiry(command))
    }

    /// An enquiry the stream does not hold is not found: one from a known customer is on the
    /// customer's stream, sealed under the customer's key, and erased with the customer, which
    /// the refusal says when the context knows the sender.
    fn erase(
        &self,
        command: &EraseEnquiry,
        context: &dyn DecisionContext,
    ) -> Result<Vec<Event>, DomainError> {
        if self.received.is_none() {
            let enquiry = command.enquiry_id;
            return Err(match context.enquiry(enquiry) {
                Some(EnquiryStanding::FromCustomer(customer)) => {
                    erased_with_its_sender(enquiry, customer).into()
                }
                _ => not_found("enquiry", enquiry),
            });
        }
        if self.erased {
            return Err(invalid_transition(
                "enquiry",
                command.enquiry_id,
                "erase",
                "erased",
            ));
        }
        emit(EnquiryErased {
            enquiry_id: command.enquiry_id,
            reason: command.reason,
        })
    }
}

impl Aggregate for Enquiry {
    type Command = EnquiryCommand;
    const CATEGORY: &'static str = "enquiry";

    fn apply(&mut self, event: &Event) {
        match event {
            Event::OnlineEnquiryReceived(enquiry) if enquiry.customer_id.is_none() => {
                self.received = Some(enquiry.enquiry_id);
            }
            Event::EnquiryErased(_) => self.erased = true,
            _ => {}
        }
    }

    fn handle(
        &self,
        command: &EnquiryCommand,
        context: &dyn DecisionContext,
    ) -> Result<Vec<Event>, DomainError> {
        match command {
            EnquiryCommand::RecordOnlineEnquiry(command) => self.record(command, context),
            EnquiryCommand::EraseEnquiry(command) => self.erase(command, context),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::aggregates::testing::given;
    use crate::events::OnlineEnquiryReceived;
    use crate::kinds::ErasureReason;
    use crate::samples;
    use crate::values::Channel;

    fn command() -> RecordOnlineEnquiry {
        RecordOnlineEnquiry {
            enquiry_id: samples::enquiry_id(),
            customer_id: None,
            campaign_id: Some(samples::campaign_id()),
            channel: Channel::Web,
            name: Some(samples::name("李四")),
            mobile: samples::mobile(),
            plate: None,
            product_lines: Vec::new(),
            message: None,
        }
    }

    fn received() -> Event {
        OnlineEnquiryReceived {
            enquiry_id: samples::enquiry_id(),
            customer_id: None,
            campaign_id: Some(samples::campaign_id()),
            channel: Channel::Web,
            name: Some(samples::name("李四")),
            mobile: samples::mobile(),
            plate: None,
            product_lines: Vec::new(),
            message: None,
        }
        .into()
    }

    #[test]
    fn an_anonymous_enquiry_is_recorded_once() {
        given::<Enquiry>(&[]).when(command()).then(&[received()]);
        given::<Enquiry>(&[received()])
            .when(command())
            .then_error(DomainError::AlreadyExists {
                kind: "enquiry",
                id: samples::enquiry_id().to_string(),
            });
    }

    #[test]
    fn a_known_customers_enquiry_is_erased_with_the_customer_which_the_refusal_says() {
        use crate::aggregates::FixedContext;
        let customer = samples::individual_customer_id();
        let error = given::<Enquiry>(&[])
            .with_context(FixedContext::at(samples::sample_time()).with_enquiry(
                samples::enquiry_id(),
                EnquiryStanding::FromCustomer(customer),
            ))
            .when(erase())
            .error();
        let DomainError::Validation(error) = error else {
            panic!("{error:?}");
        };
        assert_eq!(error.field, "enquiryId");
        assert!(
            error
                .rule
                .contains(&format!("(erase customer {customer} instead)")),
            "{error}"
        );
        // Nobody sent it: not found.
        given::<Enquiry>(&[])
            .when(erase())
            .then_error(DomainError::NotFound {
                kind: "enquiry",
                id: samples::enquiry_id().to_string(),
            });
    }

    #[test]
    fn an_anonymous_enquiry_names_only_a_launched_campaign() {
        use crate::aggregates::{CampaignStanding, FixedContext};
        given::<Enquiry>(&[])
            .with_context(
                FixedContext::at(samples::sample_time())
                    .with_campaign(samples::campaign_id(), CampaignStanding::Unknown),
            )
            .when(command())
            .then_error(DomainError::NotFound {
                kind: "campaign",
                id: samples::campaign_id().to_string(),
            });
    }

    fn erase() -> EraseEnquiry {
        EraseEnquiry {
            enquiry_id: samples::enquiry_id(),
            reason: ErasureReason::CustomerRequest,
        }
    }

    fn erased() -> Event {
        EnquiryErased {
            enquiry_id: samples::enquiry_id(),
            reason: ErasureReason::CustomerRequest,
        }
        .into()
    }

    #[test]
    fn a_received_enquiry_is_erased_once() {
        given::<Enquiry>(&[received()])
            .when(erase())
            .then(&[erased()]);
        given::<Enquiry>(&[received(), erased()])
            .when(erase())
            .then_error(DomainError::InvalidTransition {
                kind: "enquiry",
                id: samples::enquiry_id().to_string(),
                action: "erase",
                state: "erased".into(),
            });
        // Nor is an erased enquiry recorded again under its id.
        given::<Enquiry>(&[received(), erased()])
            .when(command())
            .then_error(DomainError::AlreadyExists {
                kind: "enquiry",
                id: samples::enquiry_id().to_string(),
            });
    }

    #[test]
    fn an_enquiry_the_stream_does_not_hold_is_not_found() {
        given::<Enquiry>(&[])
            .when(erase())
            .then_error(DomainError::NotFound {
                kind: "enquiry",
                id: samples::enquiry_id().to_string(),
            });
    }

    #[test]
    fn an_enquiry_from_a_known_customer_belongs_to_the_customer() {
        let mut command = command();
        command.customer_id = Some(samples::individual_customer_id());
        given::<Enquiry>(&[])
            .when(command)
            .then_invalid("customerId");
    }
}
