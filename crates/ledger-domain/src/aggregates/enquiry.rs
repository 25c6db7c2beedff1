//! The enquiry aggregate (`enquiry-{id}`): an online enquiry from someone the web shop could
//! not identify. Its stream holds one event; the aggregate exists so that the enquiry id is
//! recorded once. Enquiries from known customers go to the customer's stream instead (see
//! [`crate::events`] for why neither goes to the campaign's stream).

use super::customer::online_enquiry;
use super::{Aggregate, DecisionContext, already_exists, emit};
use crate::commands::EnquiryCommand;
use crate::events::Event;
use crate::ids::EnquiryId;
use crate::{DomainError, ValidationError};

/// Whether the enquiry was received.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Enquiry {
    received: Option<EnquiryId>,
}

impl Enquiry {
    pub fn is_received(&self) -> bool {
        self.received.is_some()
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
            _ => {}
        }
    }

    fn handle(
        &self,
        command: &EnquiryCommand,
        _context: &dyn DecisionContext,
    ) -> Result<Vec<Event>, DomainError> {
        let EnquiryCommand::RecordOnlineEnquiry(command) = command;
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
        emit(online_enquiry(command))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::aggregates::testing::given;
    use crate::commands::RecordOnlineEnquiry;
    use crate::events::OnlineEnquiryReceived;
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
    fn an_enquiry_from_a_known_customer_belongs_to_the_customer() {
        let mut command = command();
        command.customer_id = Some(samples::individual_customer_id());
        given::<Enquiry>(&[])
            .when(command)
            .then_invalid("customerId");
    }
}
