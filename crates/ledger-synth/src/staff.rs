//! The insurer's people and systems: call-centre agents on three shifts, service-hall staff,
//! surveyors, claims handlers, account managers under team leads, risk engineers, marketers,
//! supervisors and the systems that act on their own (`system:web` ...). Team sizes scale
//! with the number of customers.

use ledger_domain::ids::StaffId;

use crate::clock::{self, HOUR, MINUTE};
use crate::rng::Rng;

/// A call-centre shift. The hotline is staffed around the clock; routine work happens on the
/// early and late shifts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Shift {
    /// 08:00 to 16:30.
    Early,
    /// 12:00 to 20:30.
    Late,
    /// 20:00 to 08:30 the next morning (the 24-hour claims and rescue hotline).
    Night,
}

impl Shift {
    fn index(self) -> usize {
        match self {
            Self::Early => 0,
            Self::Late => 1,
            Self::Night => 2,
        }
    }

    /// Whether the shift's hours include `second_of_day` (Beijing time).
    fn covers(self, second_of_day: i64) -> bool {
        match self {
            Self::Early => (8 * HOUR..16 * HOUR + 30 * MINUTE).contains(&second_of_day),
            Self::Late => (12 * HOUR..20 * HOUR + 30 * MINUTE).contains(&second_of_day),
            Self::Night => !(8 * HOUR + 30 * MINUTE..20 * HOUR).contains(&second_of_day),
        }
    }
}

#[derive(Debug)]
pub(crate) struct Agent {
    pub(crate) id: StaffId,
    pub(crate) shift: Shift,
    /// The two weekdays (0 = Monday) the agent has off.
    days_off: [i64; 2],
}

/// An account manager (客户经理) and the team lead (团队长) above them.
#[derive(Debug)]
pub(crate) struct AccountManager {
    pub(crate) id: StaffId,
    pub(crate) team_lead: usize,
    /// Managers who left are inactive; spares become active when someone leaves.
    pub(crate) active: bool,
    /// Left the company: never active again.
    pub(crate) left: bool,
}

/// The systems that record events on their own.
#[derive(Debug)]
pub(crate) struct Systems {
    pub(crate) import: StaffId,
    pub(crate) web: StaffId,
    pub(crate) app: StaffId,
    pub(crate) wechat: StaffId,
    pub(crate) terminal: StaffId,
    pub(crate) policy: StaffId,
    pub(crate) survey: StaffId,
    pub(crate) marketing: StaffId,
    pub(crate) office_automation: StaffId,
}

#[derive(Debug)]
pub(crate) struct Staff {
    pub(crate) agents: Vec<Agent>,
    by_shift: [Vec<usize>; 3],
    pub(crate) hall: Vec<StaffId>,
    pub(crate) surveyors: Vec<StaffId>,
    pub(crate) claims_handlers: Vec<StaffId>,
    pub(crate) managers: Vec<AccountManager>,
    pub(crate) team_leads: Vec<StaffId>,
    pub(crate) risk_engineers: Vec<StaffId>,
    pub(crate) marketers: Vec<StaffId>,
    pub(crate) supervisors: Vec<StaffId>,
    pub(crate) quality: StaffId,
    pub(crate) data_quality: StaffId,
    pub(crate) privacy: StaffId,
    /// One head per department, in the order of `processes::DEPARTMENTS`.
    pub(crate) department_heads: Vec<StaffId>,
    pub(crate) systems: Systems,
}

fn staff(text: &str) -> StaffId {
    StaffId::parse("staff", text).expect("synthetic staff ids follow the rule")
}

fn numbered(prefix: &str, count: usize, width: usize) -> Vec<StaffId> {
    (1..=count)
        .map(|number| staff(&format!("{prefix}-{number:0width$}")))
        .collect()
}

/// `count / per`, at least `minimum` and at most `maximum`.
fn scaled(count: u32, per: u32, minimum: usize, maximum: usize) -> usize {
    usize::try_from(count / per)
        .unwrap_or(maximum)
        .clamp(minimum, maximum)
}

impl Staff {
    /// The organisation for a book of `customers` customers of which `corporates` are
    /// companies.
    pub(crate) fn for_book(customers: u32, corporates: u32) -> Self {
        let agent_count = scaled(customers, 500, 12, 600);
        let night = (agent_count / 12).max(3);
        let late = agent_count / 4;
        let agents: Vec<Agent> = (0..agent_count)
            .map(|index| {
                let shift = if index < night {
                    Shift::Night
                } else if index < night + late {
                    Shift::Late
                } else {
                    Shift::Early
                };
                let first_off = i64::try_from(index % 7).unwrap_or(0);
                Agent {
                    id: staff(&format!("agent-{:04}", index + 1)),
                    shift,
                    days_off: [first_off, (first_off + 3) % 7],
                }
            })
            .collect();
        let mut by_shift: [Vec<usize>; 3] = Default::default();
        for (index, agent) in agents.iter().enumerate() {
            by_shift[agent.shift.index()].push(index);
        }
        let manager_count = scaled(corporates, 12, 3, 300);
        let spares = (manager_count / 4).max(2);
        let team_lead_count = (manager_count / 6).max(2);
        let managers = (0..manager_count + spares)
            .map(|index| AccountManager {
                id: staff(&format!("am-{:03}", index + 1)),
                team_lead: index % team_lead_count,
                active: index < manager_count,
                left: false,
            })
            .collect();
        Self {
            agents,
            by_shift,
            hall: numbered("hall", scaled(customers, 4_000, 3, 60), 3),
            surveyors: numbered("surveyor", scaled(customers, 1_500, 4, 150), 3),
            claims_handlers: numbered("claims", scaled(customers, 3_000, 3, 80), 3),
            managers,
            team_leads: numbered("tl", team_lead_count, 2),
            risk_engineers: numbered("risk", scaled(corporates, 60, 2, 40), 2),
            marketers: numbered("mkt", scaled(customers, 20_000, 3, 10), 2),
            supervisors: numbered("sup", (agent_count / 15).max(2), 2),
            quality: staff("qa-01"),
            data_quality: staff("dq-01"),
            privacy: staff("privacy-01"),
            department_heads: [
                "head-cs",
                "head-claims",
                "head-uw",
                "head-mkt",
                "head-corp",
                "head-it",
            ]
            .into_iter()
            .map(staff)
            .collect(),
            systems: Systems {
                import: staff("system:import"),
                web: staff("system:web"),
                app: staff("system:app"),
                wechat: staff("system:wechat"),
                terminal: staff("system:terminal"),
                policy: staff("system:policy"),
                survey: staff("system:survey"),
                marketing: staff("system:marketing"),
                office_automation: staff("system:oa"),
            },
        }
    }

    /// An agent at work at `instant`: a shift that covers the hour, then an agent of that
    /// shift whose day off it is not.
    pub(crate) fn agent_on_duty(&self, rng: &mut Rng, instant: i64) -> &StaffId {
        let second = clock::local_second_of_day(instant);
        let day = clock::local_day(instant);
        let mut shifts = [Shift::Early; 3];
        let mut count = 0;
        for shift in [Shift::Early, Shift::Late, Shift::Night] {
            if shift.covers(second) && !self.by_shift[shift.index()].is_empty() {
                shifts[count] = shift;
                count += 1;
            }
        }
        if count == 0 {
            return &self.agents[rng.index(self.agents.len())].id;
        }
        let shift = shifts[rng.index(count)];
        // A night shift that is past midnight started the day before.
        let shift_day = if shift == Shift::Night && second < 12 * HOUR {
            day - 1
        } else {
            day
        };
        let weekday = clock::weekday(shift_day);
        let members = &self.by_shift[shift.index()];
        for _ in 0..12 {
            let agent = &self.agents[members[rng.index(members.len())]];
            if !agent.days_off.contains(&weekday) {
                return &agent.id;
            }
        }
        &self.agents[members[0]].id
    }

    /// Whether `agent` (an index) works at `instant` (for tests of the shift plan).
    #[cfg(test)]
    fn on_duty(&self, agent: usize, instant: i64) -> bool {
        let agent = &self.agents[agent];
        let second = clock::local_second_of_day(instant);
        let day = clock::local_day(instant);
        let shift_day = if agent.shift == Shift::Night && second < 12 * HOUR {
            day - 1
        } else {
            day
        };
        agent.shift.covers(second) && !agent.days_off.contains(&clock::weekday(shift_day))
    }

    /// An active account manager, by index.
    pub(crate) fn active_manager(&self, rng: &mut Rng) -> usize {
        let active: Vec<usize> = (0..self.managers.len())
            .filter(|&index| self.managers[index].active)
            .collect();
        active[rng.index(active.len())]
    }

    /// Every member of staff who can be trained on processes of `department`.
    pub(crate) fn trainees(&self, department: usize) -> Vec<&StaffId> {
        match department {
            0 => self
                .agents
                .iter()
                .map(|agent| &agent.id)
                .chain(&self.hall)
                .chain(&self.supervisors)
                .collect(),
            1 => self.surveyors.iter().chain(&self.claims_handlers).collect(),
            2 => self
                .agents
                .iter()
                .map(|agent| &agent.id)
                .take(40)
                .chain(&self.supervisors)
                .collect(),
            3 => self.marketers.iter().collect(),
            4 => self
                .managers
                .iter()
                .map(|manager| &manager.id)
                .chain(&self.team_leads)
                .chain(&self.risk_engineers)
                .collect(),
            _ => [&self.data_quality, &self.privacy, &self.quality]
                .into_iter()
                .chain(&self.supervisors)
                .collect(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn someone_is_always_on_duty_and_chosen_agents_are_at_work() {
        let staff = Staff::for_book(2_000, 160);
        let mut rng = Rng::new(5);
        let monday = clock::day_number(2024, 3, 18);
        for hour in 0..24 * 7 {
            let instant = clock::at_local(monday, hour * HOUR + 17 * MINUTE);
            let chosen = staff.agent_on_duty(&mut rng, instant);
            let index = staff
                .agents
                .iter()
                .position(|agent| &agent.id == chosen)
                .unwrap();
            assert!(staff.on_duty(index, instant), "{chosen} at hour {hour}");
        }
    }
}
