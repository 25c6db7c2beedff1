//! A timeline entry: what an agent reads at a glance about one event, and how each event type
//! becomes one.
//!
//! Titles carry only non-personal facts (kinds, channels, policy and claim numbers, amounts,
//! dates, staff ids), so they survive erasure unchanged. Everything personal (names,
//! identifiers, addresses, free text) goes in `summary`, which erasure clears.

use jiff::Timestamp;
use ledger_domain::events::{
    ContactCorrected, ContactRecorded, CustomersMerged, Event, OnlineEnquiryReceived,
    SatisfactionRecorded,
};
use ledger_domain::ids::{CampaignId, CaseId, ContactId, CustomerId, EventId, Position, StaffId};
use ledger_domain::kinds::ContactOutcome;
use ledger_domain::projection::Envelope;
use ledger_domain::values::{
    Channel, ClaimNumber, Direction, FreeText, Money, PolicyNumber, Topic,
};
use serde::{Deserialize, Serialize};

use crate::label::label;

/// One event as it appears on a customer's timeline.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TimelineEntry {
    pub position: Position,
    pub event_id: EventId,
    /// Business time: when it happened, not when the ledger heard of it. Stored as jiff
    /// writes it; read back by `stored_time`, which reads jiff's own shape without jiff's
    /// general parser.
    #[serde(deserialize_with = "crate::stored_time::deserialize")]
    pub occurred_at: Timestamp,
    /// The event type's name (`ContactRecorded`): what the `kinds` filter matches.
    pub kind: String,
    /// Short text an agent reads: `Inbound PHONE call — CLAIM_REPORT`.
    pub title: String,
    pub channel: Option<Channel>,
    pub direction: Option<Direction>,
    pub topic: Option<Topic>,
    /// The member of staff who handled it (agent, surveyor, assignee, account manager).
    pub agent: Option<StaffId>,
    /// Personal free text (a contact summary, a comment, findings); `None` once erased.
    pub summary: Option<String>,
    /// How it ended, as a wire name (`FOLLOW_UP_NEEDED`, `SETTLED`, `WITHIN_DEADLINE` ...).
    pub outcome: Option<String>,
    pub policy: Option<PolicyNumber>,
    pub claim: Option<ClaimNumber>,
    pub case: Option<CaseId>,
    pub campaign: Option<CampaignId>,
    pub contact: Option<ContactId>,
    /// The amount the event is about (premium, settlement, refund, estimate), in fen.
    pub amount_fen: Option<i64>,
    pub duration_seconds: Option<u32>,
    pub csat: Option<u8>,
    pub nps: Option<u8>,
    /// The customer the event was recorded for. On a survivor's timeline, entries gathered from
    /// a merged customer name the merged customer here.
    pub recorded_for: CustomerId,
    /// A `ContactCorrected` replaced the facts of this contact.
    pub corrected: bool,
    /// The personal data of `recorded_for` (or of the timeline's owner) was erased, or the
    /// event's could not be opened here (its data key stayed in the ledger it was exported
    /// from): either way `summary` is `None`.
    pub erased: bool,
}

impl TimelineEntry {
    /// An entry with the envelope's facts and nothing else.
    fn new(envelope: &Envelope<'_>, recorded_for: CustomerId, title: String) -> Self {
        Self {
            position: envelope.position,
            event_id: envelope.event_id,
            occurred_at: envelope.occurred_at,
            kind: envelope.event.event_type().to_owned(),
            title,
            channel: None,
            direction: None,
            topic: None,
            agent: None,
            summary: None,
            outcome: None,
            policy: None,
            claim: None,
            case: None,
            campaign: None,
            contact: None,
            amount_fen: None,
            duration_seconds: None,
            csat: None,
            nps: None,
            recorded_for,
            corrected: false,
            erased: false,
        }
    }

    /// Removes the personal text, keeping every non-personal fact.
    pub fn erase(&mut self) {
        self.summary = None;
        self.erased = true;
    }

    /// Replaces a contact's facts with a correction's, its time included: a contact is dated
    /// when it ended, so a corrected start or duration dates it anew (the fold moves the entry
    /// to its new place in time).
    pub fn correct(&mut self, correction: &ContactCorrected) {
        let facts = ContactFacts::of_correction(correction);
        facts.fill(self);
        if let Some(ended) = correction.ended_at() {
            self.occurred_at = ended;
        }
        self.corrected = true;
        if self.erased {
            self.erase();
        }
    }
}

/// The entry for `envelope` on the timeline of `recorded_for`, the customer the event names.
/// `None` for the events that are not entries: corrections (they change an entry instead) and
/// events that name no customer. An event that reads redacted gives an erased entry.
pub fn entry_for(envelope: &Envelope<'_>, recorded_for: CustomerId) -> Option<TimelineEntry> {
    let new = |title: String| TimelineEntry::new(envelope, recorded_for, title);
    let mut entry = match envelope.event {
        Event::CustomerRegistered(event) => TimelineEntry {
            summary: Some(event.name.to_string()),
            ..new(format!("Customer registered ({})", label(&event.kind)))
        },
        Event::IdentifierAdded(event) => TimelineEntry {
            summary: Some(event.identifier.value().to_owned()),
            ..new(format!(
                "Identifier added: {}",
                label(&event.identifier.kind())
            ))
        },
        Event::IdentifierRemoved(event) => TimelineEntry {
            summary: Some(event.identifier.value().to_owned()),
            ..new(format!(
                "Identifier removed: {}",
                label(&event.identifier.kind())
            ))
        },
        Event::ProfileUpdated(event) => {
            let parts = [
                Some(event.name.as_str()),
                event.group.as_ref().map(|group| group.as_str()),
                event.address.as_ref().map(FreeText::as_str),
            ];
            TimelineEntry {
                summary: Some(parts.into_iter().flatten().collect::<Vec<_>>().join(" · ")),
                ..new("Profile updated".to_owned())
            }
        }
        Event::ConsentChanged(event) => {
            let change = if event.granted {
                "granted"
            } else {
                "withdrawn"
            };
            new(format!(
                "Marketing consent {change} on {}",
                label(&event.channel)
            ))
        }
        Event::AccountManagerAssigned(event) => {
            let replacing = event
                .previous_manager
                .as_ref()
                .map(|previous| format!(", replacing {previous}"))
                .unwrap_or_default();
            TimelineEntry {
                agent: Some(event.manager.clone()),
                ..new(format!(
                    "Account manager {} assigned (team lead {}){replacing}",
                    event.manager, event.team_lead
                ))
            }
        }
        Event::CustomerErased(event) => {
            new(format!("Personal data erased ({})", label(&event.reason)))
        }
        Event::CustomersMerged(event) => merged_entry(envelope, event, recorded_for),
        Event::ContactRecorded(event) => contact_entry(envelope, event, recorded_for),
        Event::ContactCorrected(_) => return None,
        Event::SatisfactionRecorded(event) => satisfaction_entry(envelope, event, recorded_for),
        Event::OnlineEnquiryReceived(event) => enquiry_entry(envelope, event, recorded_for),
        // An anonymous enquiry's erasure names no customer.
        Event::EnquiryErased(_) => return None,
        Event::PolicyQuoted(event) => TimelineEntry {
            channel: Some(event.sales_channel),
            policy: Some(event.policy_number.clone()),
            campaign: event.campaign_id,
            amount_fen: Some(event.premium.fen()),
            ..new(format!(
                "Policy {} quoted, premium {}",
                event.policy_number,
                yuan(event.premium)
            ))
        },
        Event::PolicyIssued(event) => TimelineEntry {
            channel: Some(event.sales_channel),
            policy: Some(event.policy_number.clone()),
            campaign: event.campaign_id,
            amount_fen: Some(event.premium.fen()),
            ..new(format!(
                "Policy {} issued, premium {}",
                event.policy_number,
                yuan(event.premium)
            ))
        },
        Event::PolicyRenewed(event) => TimelineEntry {
            channel: Some(event.sales_channel),
            policy: Some(event.policy_number.clone()),
            campaign: event.campaign_id,
            amount_fen: Some(event.premium.fen()),
            ..new(format!(
                "Policy {} renewed, premium {} (was {})",
                event.policy_number,
                yuan(event.premium),
                yuan(event.previous_premium)
            ))
        },
        Event::PolicyEndorsed(event) => TimelineEntry {
            policy: Some(event.policy_number.clone()),
            amount_fen: Some(event.premium_change.fen()),
            summary: Some(event.description.to_string()),
            ..new(format!(
                "Policy {} endorsed from {}, premium change {}",
                event.policy_number,
                event.effective_on,
                signed_yuan(event.premium_change)
            ))
        },
        Event::PolicyLapsed(event) => TimelineEntry {
            policy: Some(event.policy_number.clone()),
            ..new(format!(
                "Policy {} lapsed on {}",
                event.policy_number, event.lapsed_on
            ))
        },
        Event::PolicyCancelled(event) => TimelineEntry {
            policy: Some(event.policy_number.clone()),
            amount_fen: Some(event.refund.fen()),
            ..new(format!(
                "Policy {} cancelled on {} ({}), refund {}",
                event.policy_number,
                event.cancelled_on,
                label(&event.reason),
                yuan(event.refund)
            ))
        },
        Event::ClaimReported(event) => TimelineEntry {
            channel: Some(event.reported_via),
            direction: Some(Direction::Inbound),
            policy: Some(event.policy_number.clone()),
            claim: Some(event.claim_number.clone()),
            amount_fen: event.estimated_loss.map(Money::fen),
            summary: Some(format!("{} ({})", event.description, event.location)),
            ..new(format!(
                "Claim {} reported via {} on policy {}",
                event.claim_number,
                label(&event.reported_via),
                event.policy_number
            ))
        },
        Event::ClaimSurveyed(event) => {
            let how = if event.on_site { "on site" } else { "remotely" };
            TimelineEntry {
                agent: Some(event.surveyor.clone()),
                claim: Some(event.claim_number.clone()),
                amount_fen: Some(event.assessed_loss.fen()),
                summary: Some(event.findings.to_string()),
                ..new(format!(
                    "Claim {} surveyed {how}, assessed loss {}",
                    event.claim_number,
                    yuan(event.assessed_loss)
                ))
            }
        }
        Event::ClaimDocumentsRequested(event) => TimelineEntry {
            channel: Some(event.requested_via),
            direction: Some(Direction::Outbound),
            claim: Some(event.claim_number.clone()),
            ..new(format!(
                "Claim {}: {} document{} requested via {}",
                event.claim_number,
                event.documents.len(),
                if event.documents.len() == 1 { "" } else { "s" },
                label(&event.requested_via)
            ))
        },
        Event::ClaimDocumentsCompleted(event) => TimelineEntry {
            claim: Some(event.claim_number.clone()),
            ..new(format!("Claim {}: documents complete", event.claim_number))
        },
        Event::ClaimSettled(event) => {
            let direct = if event.direct_payment {
                " (direct payment)"
            } else {
                ""
            };
            TimelineEntry {
                claim: Some(event.claim_number.clone()),
                amount_fen: Some(event.amount.fen()),
                outcome: Some("SETTLED".to_owned()),
                summary: Some(event.payee.name.to_string()),
                ..new(format!(
                    "Claim {} settled, {} paid to {}{direct}",
                    event.claim_number,
                    yuan(event.amount),
                    label(&event.payee.kind)
                ))
            }
        }
        Event::ClaimRejected(event) => TimelineEntry {
            claim: Some(event.claim_number.clone()),
            outcome: Some("REJECTED".to_owned()),
            summary: Some(event.explanation.to_string()),
            ..new(format!(
                "Claim {} rejected ({})",
                event.claim_number,
                label(&event.reason)
            ))
        },
        Event::ClaimReopened(event) => TimelineEntry {
            claim: Some(event.claim_number.clone()),
            summary: Some(event.reason.to_string()),
            ..new(format!("Claim {} reopened", event.claim_number))
        },
        Event::ServiceCaseOpened(event) => TimelineEntry {
            channel: Some(event.channel),
            case: Some(event.case_id),
            policy: event.policy_number.clone(),
            claim: event.claim_number.clone(),
            contact: event.contact_id,
            summary: Some(event.subject.to_string()),
            ..new(format!(
                "{} case opened, {} priority, due {}",
                label(&event.kind),
                label(&event.priority),
                match event.deadline_working_hours {
                    // The service history counts these on the business calendar.
                    Some(hours) => format!("within {hours} working hours"),
                    None => beijing_time(event.deadline),
                }
            ))
        },
        Event::ServiceCaseAssigned(event) => TimelineEntry {
            agent: Some(event.assignee.clone()),
            case: Some(event.case_id),
            ..new(format!("Case assigned to {}", event.assignee))
        },
        Event::ServiceCaseEscalated(event) => TimelineEntry {
            agent: Some(event.escalated_to.clone()),
            case: Some(event.case_id),
            summary: Some(event.reason.to_string()),
            ..new(format!(
                "Case escalated to {} (level {}, {} priority), due {}",
                event.escalated_to,
                event.level,
                label(&event.priority),
                beijing_time(event.deadline)
            ))
        },
        Event::ServiceCaseResolved(event) => {
            let (outcome, title) = if event.within_deadline {
                ("WITHIN_DEADLINE", "Case resolved within its deadline")
            } else {
                ("DEADLINE_BREACHED", "Case resolved after its deadline")
            };
            TimelineEntry {
                agent: Some(event.resolved_by.clone()),
                case: Some(event.case_id),
                outcome: Some(outcome.to_owned()),
                summary: Some(event.resolution.to_string()),
                ..new(title.to_owned())
            }
        }
        Event::ServiceCaseReopened(event) => TimelineEntry {
            case: Some(event.case_id),
            summary: Some(event.reason.to_string()),
            ..new(format!(
                "Case reopened, due {}",
                beijing_time(event.deadline)
            ))
        },
        Event::ServiceCaseClosed(event) => {
            let (outcome, title) = if event.customer_confirmed {
                ("CONFIRMED", "Case closed, confirmed by the customer")
            } else {
                (
                    "UNCONFIRMED",
                    "Case closed without the customer's confirmation",
                )
            };
            TimelineEntry {
                agent: Some(event.closed_by.clone()),
                case: Some(event.case_id),
                outcome: Some(outcome.to_owned()),
                ..new(title.to_owned())
            }
        }
        Event::RiskSurveyCompleted(event) => TimelineEntry {
            agent: Some(event.surveyor.clone()),
            case: Some(event.case_id),
            summary: Some(event.findings.to_string()),
            ..new(format!(
                "Risk survey completed, {} recommendations",
                event.recommendations.len()
            ))
        },
        Event::RiskRecommendationFollowedUp(event) => TimelineEntry {
            agent: Some(event.followed_up_by.clone()),
            case: Some(event.case_id),
            outcome: Some(label(&event.status).to_owned()),
            summary: Some(event.note.to_string()),
            ..new(format!(
                "Risk recommendation {} followed up: {}",
                event.recommendation,
                label(&event.status)
            ))
        },
        Event::CampaignTouchSent(event) => TimelineEntry {
            channel: Some(event.channel),
            direction: Some(Direction::Outbound),
            agent: event.agent.clone(),
            campaign: Some(event.campaign_id),
            contact: event.contact_id,
            ..new(format!("Campaign touch via {}", label(&event.channel)))
        },
        Event::CampaignResponded(event) => {
            let won = if event.premium_won == Money::ZERO {
                String::new()
            } else {
                format!(", premium won {}", yuan(event.premium_won))
            };
            TimelineEntry {
                channel: Some(event.channel),
                direction: Some(Direction::Inbound),
                campaign: Some(event.campaign_id),
                policy: event.policy_number.clone(),
                amount_fen: Some(event.premium_won.fen()),
                outcome: Some(label(&event.response).to_owned()),
                ..new(format!(
                    "Campaign response: {}{won}",
                    label(&event.response)
                ))
            }
        }
        Event::CampaignLaunched(_)
        | Event::CampaignCostIncurred(_)
        | Event::CampaignClosed(_)
        | Event::ProcessPublished(_)
        | Event::ProcessTrainingRecorded(_) => return None,
    };
    if envelope.redacted {
        entry.erase();
    }
    Some(entry)
}

/// The entry for a correction of a contact the timeline never saw (its record is missing from
/// the log): the corrected facts, flagged as corrected (and erased, when it reads redacted).
pub fn correction_entry(
    envelope: &Envelope<'_>,
    event: &ContactCorrected,
    recorded_for: CustomerId,
) -> TimelineEntry {
    let mut entry = TimelineEntry::new(envelope, recorded_for, String::new());
    entry.correct(event);
    if envelope.redacted {
        entry.erase();
    }
    entry
}

/// A merge, as seen by the merged customer (`recorded_for` is the merged one) or the survivor.
fn merged_entry(
    envelope: &Envelope<'_>,
    event: &CustomersMerged,
    recorded_for: CustomerId,
) -> TimelineEntry {
    let title = if recorded_for == event.customer_id {
        format!("Merged into customer {}", event.survivor_id)
    } else {
        format!("Customer {} merged into this customer", event.customer_id)
    };
    TimelineEntry {
        summary: event.reason.as_ref().map(ToString::to_string),
        // The merge is written to the merged customer's stream: its personal data is the
        // merged customer's on both timelines.
        recorded_for: event.customer_id,
        ..TimelineEntry::new(envelope, event.customer_id, title)
    }
}

fn contact_entry(
    envelope: &Envelope<'_>,
    event: &ContactRecorded,
    recorded_for: CustomerId,
) -> TimelineEntry {
    let mut entry = TimelineEntry::new(envelope, recorded_for, String::new());
    ContactFacts::of_record(event).fill(&mut entry);
    entry
}

fn satisfaction_entry(
    envelope: &Envelope<'_>,
    event: &SatisfactionRecorded,
    recorded_for: CustomerId,
) -> TimelineEntry {
    let scores = [
        event.csat.map(|csat| format!("CSAT {}/5", csat.get())),
        event.nps.map(|nps| format!("NPS {}/10", nps.get())),
    ];
    let scores = scores.into_iter().flatten().collect::<Vec<_>>().join(", ");
    TimelineEntry {
        csat: event.csat.map(|csat| csat.get()),
        nps: event.nps.map(|nps| nps.get()),
        contact: event.contact_id,
        summary: event.comment.as_ref().map(ToString::to_string),
        ..TimelineEntry::new(
            envelope,
            recorded_for,
            format!("Satisfaction survey: {scores}"),
        )
    }
}

fn enquiry_entry(
    envelope: &Envelope<'_>,
    event: &OnlineEnquiryReceived,
    recorded_for: CustomerId,
) -> TimelineEntry {
    let about = match event.product_lines.len() {
        0 => String::new(),
        1 => " about 1 product line".to_owned(),
        lines => format!(" about {lines} product lines"),
    };
    TimelineEntry {
        channel: Some(event.channel),
        direction: Some(Direction::Inbound),
        campaign: event.campaign_id,
        summary: event.message.as_ref().map(ToString::to_string),
        ..TimelineEntry::new(
            envelope,
            recorded_for,
            format!(
                "Online enquiry via {}{about}, awaiting a call-back",
                label(&event.channel)
            ),
        )
    }
}

/// The facts a contact record and its correction share.
struct ContactFacts<'a> {
    contact: ContactId,
    channel: Channel,
    direction: Direction,
    agent: &'a StaffId,
    duration_seconds: u32,
    topic: Topic,
    summary: &'a FreeText,
    outcome: ContactOutcome,
    policy: Option<&'a PolicyNumber>,
    claim: Option<&'a ClaimNumber>,
    case: Option<CaseId>,
    campaign: Option<CampaignId>,
}

impl<'a> ContactFacts<'a> {
    fn of_record(event: &'a ContactRecorded) -> Self {
        Self {
            contact: event.contact_id,
            channel: event.channel,
            direction: event.direction,
            agent: &event.agent,
            duration_seconds: event.duration_seconds,
            topic: event.topic,
            summary: &event.summary,
            outcome: event.outcome,
            policy: event.policy_number.as_ref(),
            claim: event.claim_number.as_ref(),
            case: event.case_id,
            campaign: event.campaign_id,
        }
    }

    fn of_correction(event: &'a ContactCorrected) -> Self {
        Self {
            contact: event.contact_id,
            channel: event.channel,
            direction: event.direction,
            agent: &event.agent,
            duration_seconds: event.duration_seconds,
            topic: event.topic,
            summary: &event.summary,
            outcome: event.outcome,
            policy: event.policy_number.as_ref(),
            claim: event.claim_number.as_ref(),
            case: event.case_id,
            campaign: event.campaign_id,
        }
    }

    /// Writes the facts into `entry`, title included.
    fn fill(&self, entry: &mut TimelineEntry) {
        let direction = match self.direction {
            Direction::Inbound => "Inbound",
            Direction::Outbound => "Outbound",
        };
        entry.title = format!(
            "{direction} {} {} — {}",
            label(&self.channel),
            contact_noun(self.channel),
            label(&self.topic)
        );
        entry.contact = Some(self.contact);
        entry.channel = Some(self.channel);
        entry.direction = Some(self.direction);
        entry.topic = Some(self.topic);
        entry.agent = Some(self.agent.clone());
        entry.duration_seconds = Some(self.duration_seconds);
        entry.summary = Some(self.summary.to_string());
        entry.outcome = Some(label(&self.outcome).to_owned());
        entry.policy = self.policy.cloned();
        entry.claim = self.claim.cloned();
        entry.case = self.case;
        entry.campaign = self.campaign;
    }
}

/// What a contact on `channel` is called in a title: a PHONE call, a WECHAT conversation.
fn contact_noun(channel: Channel) -> &'static str {
    match channel {
        Channel::Phone => "call",
        Channel::WeChat => "conversation",
        Channel::Web | Channel::App => "session",
        Channel::SelfServiceTerminal | Channel::WalkIn => "visit",
        Channel::Email => "e-mail",
        Channel::Fax => "fax",
        Channel::Post => "letter",
    }
}

/// An amount as an agent reads it: `¥3,456.00`, `-¥120.00`.
pub fn yuan(amount: Money) -> String {
    let fen = amount.fen();
    let sign = if fen < 0 { "-" } else { "" };
    format!("{sign}¥{}", unsigned_yuan(fen.unsigned_abs()))
}

/// A change of amount: `+¥120.00`, `-¥120.00`, `¥0.00`.
fn signed_yuan(amount: Money) -> String {
    let fen = amount.fen();
    let sign = match fen.signum() {
        1 => "+",
        -1 => "-",
        _ => "",
    };
    format!("{sign}¥{}", unsigned_yuan(fen.unsigned_abs()))
}

/// `345600` fen as `3,456.00`.
fn unsigned_yuan(fen: u64) -> String {
    let whole = (fen / 100).to_string();
    // Groups of three digits from the right; the digits are ASCII, so each group is UTF-8.
    let groups: Vec<&str> = whole
        .as_bytes()
        .rchunks(3)
        .rev()
        .map(|group| std::str::from_utf8(group).unwrap_or_default())
        .collect();
    format!("{}.{:02}", groups.join(","), fen % 100)
}

/// A time in a title as the call centre reads its clocks: Beijing time (UTC+8, no daylight
/// saving since 1991), to the minute.
fn beijing_time(at: Timestamp) -> String {
    let offset = jiff::tz::Offset::constant(8);
    format!(
        "{} Beijing time",
        offset.to_datetime(at).strftime("%Y-%m-%d %H:%M")
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amounts_read_as_yuan_with_grouped_thousands() {
        assert_eq!(yuan(Money::from_fen(345_600)), "¥3,456.00");
        assert_eq!(yuan(Money::from_fen(5)), "¥0.05");
        assert_eq!(yuan(Money::from_fen(12_345_678_901)), "¥123,456,789.01");
        assert_eq!(yuan(Money::from_fen(-12_000)), "-¥120.00");
        assert_eq!(
            yuan(Money::from_fen(i64::MIN)),
            "-¥92,233,720,368,547,758.08"
        );
        assert_eq!(signed_yuan(Money::from_fen(12_000)), "+¥120.00");
        assert_eq!(signed_yuan(Money::from_fen(-12_000)), "-¥120.00");
        assert_eq!(signed_yuan(Money::ZERO), "¥0.00");
    }
}
