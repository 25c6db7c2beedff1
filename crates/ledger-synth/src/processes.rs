//! The process network (seed 4.2.5): business processes published per department as a tree,
//! linked across departments into a network, revised a few times a year, and the training
//! staff receive on each version. Two processes are orphans (no parent, no links) and some
//! staff are never trained, as the seed says happens when processes are only announced at
//! the morning meeting.

use ledger_domain::events::{ProcessPublished, ProcessTrainingRecorded};
use ledger_domain::ids::{ProcessId, StaffId};
use ledger_domain::kinds::Title;

use crate::clock::{self, DAY};
use crate::rng::round_clamped;
use crate::world::{Action, ProcessState, World, days, text};

/// Departments, in the order of `Staff::department_heads`.
pub(crate) const DEPARTMENTS: &[&str] = &[
    "客户服务部",
    "理赔部",
    "承保部",
    "营销部",
    "公司业务部",
    "信息技术部",
];

/// One published process: title, department, parent and links (indices of earlier entries),
/// how readily its department's staff are trained on it.
struct Spec {
    title: &'static str,
    department: usize,
    parent: Option<usize>,
    links: &'static [usize],
    training_share: f64,
    summary: &'static str,
}

const PROCESSES: &[Spec] = &[
    Spec {
        title: "客户服务总流程",
        department: 0,
        parent: None,
        links: &[],
        training_share: 0.6,
        summary: "客户服务中心各渠道服务的总体规范",
    },
    Spec {
        title: "呼入电话受理流程",
        department: 0,
        parent: Some(0),
        links: &[],
        training_share: 0.8,
        summary: "来电识别客户、调阅历史记录并登记接触",
    },
    Spec {
        title: "投诉处理流程",
        department: 0,
        parent: Some(0),
        links: &[1],
        training_share: 0.7,
        summary: "投诉受理、分派、升级与回访，24个工作小时内处理完毕",
    },
    Spec {
        title: "客户回访与满意度调查流程",
        department: 0,
        parent: Some(0),
        links: &[1],
        training_share: 0.5,
        summary: "理赔结案及工单处理后的满意度回访",
    },
    Spec {
        title: "网上咨询回呼流程",
        department: 0,
        parent: Some(0),
        links: &[1],
        training_share: 0.5,
        summary: "网上商店线索两个工作小时内回呼",
    },
    Spec {
        title: "理赔服务总流程",
        department: 1,
        parent: None,
        links: &[0],
        training_share: 0.6,
        summary: "报案至结案的理赔服务总体规范",
    },
    Spec {
        title: "报案受理与24小时救援调度流程",
        department: 1,
        parent: Some(5),
        links: &[1],
        training_share: 0.8,
        summary: "24小时热线报案受理与道路救援调度",
    },
    Spec {
        title: "查勘定损流程",
        department: 1,
        parent: Some(5),
        links: &[6],
        training_share: 0.8,
        summary: "现场及远程查勘、定损标准",
    },
    Spec {
        title: "一次性告知与索赔资料收取流程",
        department: 1,
        parent: Some(5),
        links: &[7],
        training_share: 0.7,
        summary: "查勘后一次性告知全部索赔资料",
    },
    Spec {
        title: "小额案件快速赔付流程",
        department: 1,
        parent: Some(5),
        links: &[7, 8],
        training_share: 0.6,
        summary: "五千元以下无人伤案件免现场查勘，资料齐全后三个工作日内赔付",
    },
    Spec {
        title: "索赔时效管理流程",
        department: 1,
        parent: Some(5),
        links: &[8, 2],
        training_share: 0.6,
        summary: "自资料齐全起按承诺工作日结案，超时预警",
    },
    Spec {
        title: "直赔及4S店专修流程",
        department: 1,
        parent: Some(5),
        links: &[7],
        training_share: 0.5,
        summary: "大客户车辆4S店专修及与修理厂直接结算",
    },
    Spec {
        title: "预付赔款与分项赔付流程",
        department: 1,
        parent: Some(5),
        links: &[8],
        training_share: 0.4,
        summary: "人伤及大额案件的预付与分项赔付",
    },
    Spec {
        title: "代位求偿流程",
        department: 1,
        parent: Some(5),
        links: &[],
        training_share: 0.3,
        summary: "第三方责任案件先行赔付后向责任方追偿",
    },
    Spec {
        title: "承保管理总流程",
        department: 2,
        parent: None,
        links: &[],
        training_share: 0.5,
        summary: "投保、续保、批改、退保的总体规范",
    },
    Spec {
        title: "新车投保流程",
        department: 2,
        parent: Some(14),
        links: &[4],
        training_share: 0.6,
        summary: "新车报价、核保与出单",
    },
    Spec {
        title: "续保管理流程",
        department: 2,
        parent: Some(14),
        links: &[1, 3],
        training_share: 0.6,
        summary: "到期前30天提醒续保，未续保客户回访",
    },
    Spec {
        title: "批改与退保流程",
        department: 2,
        parent: Some(14),
        links: &[],
        training_share: 0.4,
        summary: "保单信息变更与退保退费",
    },
    Spec {
        title: "营销活动管理总流程",
        department: 3,
        parent: None,
        links: &[14],
        training_share: 0.8,
        summary: "营销活动从计划、执行到反馈的全过程管理",
    },
    Spec {
        title: "营销活动策划与预算流程",
        department: 3,
        parent: Some(18),
        links: &[],
        training_share: 0.8,
        summary: "活动目标客户、预算与渠道的确定",
    },
    Spec {
        title: "营销活动执行与反馈流程",
        department: 3,
        parent: Some(18),
        links: &[19, 4],
        training_share: 0.8,
        summary: "触达、响应登记与保费归因",
    },
    Spec {
        title: "大客户服务总流程",
        department: 4,
        parent: None,
        links: &[0, 5],
        training_share: 0.7,
        summary: "公司业务一对一服务总体规范",
    },
    Spec {
        title: "大客户一对一服务流程",
        department: 4,
        parent: Some(21),
        links: &[11],
        training_share: 0.7,
        summary: "客户经理季度走访与专属服务",
    },
    Spec {
        title: "客户经理交接流程",
        department: 4,
        parent: Some(21),
        links: &[22],
        training_share: 0.5,
        summary: "客户经理变动时的客户交接与回访",
    },
    Spec {
        title: "风险查勘与整改跟踪流程",
        department: 4,
        parent: Some(21),
        links: &[22],
        training_share: 0.6,
        summary: "年度风险查勘、整改意见与跟踪回访",
    },
    Spec {
        title: "集团客户增值服务流程",
        department: 4,
        parent: Some(21),
        links: &[24, 11],
        training_share: 0.5,
        summary: "集团成员单位因需定制的增值服务",
    },
    Spec {
        title: "客户信息变更流程",
        department: 5,
        parent: None,
        links: &[1],
        training_share: 0.6,
        summary: "客户标识与资料变更的核实与登记",
    },
    Spec {
        title: "重复客户合并流程",
        department: 5,
        parent: Some(26),
        links: &[26],
        training_share: 0.7,
        summary: "重复建档客户的识别与合并",
    },
    Spec {
        title: "个人信息删除流程",
        department: 5,
        parent: Some(26),
        links: &[],
        training_share: 0.7,
        summary: "依个人信息保护法受理删除请求",
    },
    Spec {
        title: "异地理赔服务流程",
        department: 1,
        parent: None,
        links: &[],
        training_share: 0.0,
        summary: "外省出险的报案与理赔协调",
    },
    Spec {
        title: "晨会宣导管理办法",
        department: 0,
        parent: None,
        links: &[],
        training_share: 0.0,
        summary: "晨会宣导新发布流程的要求",
    },
];

impl World {
    /// Publishes every process in its first version during the history's first week, each
    /// followed by a training wave, and plans the first revision.
    pub(crate) fn publish_processes(&mut self) {
        let first_day = clock::local_day(self.start) + 1;
        for (index, spec) in PROCESSES.iter().enumerate() {
            let day = first_day + i64::try_from(index / 6).unwrap_or(0);
            let at =
                clock::business_moment_on(&mut self.rng, day) + i64::try_from(index).unwrap_or(0);
            let id = ProcessId::from_uuid(self.uuid(at));
            let links = spec
                .links
                .iter()
                .map(|&link| self.processes[link].id)
                .collect();
            self.processes.push(ProcessState {
                id,
                version: 0,
                links,
            });
            self.publish(index, at);
        }
        let at = self.business_moment_in(60, 150);
        self.schedule(at, Action::ProcessRevision);
    }

    fn publish(&mut self, index: usize, at: i64) {
        let spec = &PROCESSES[index];
        let state = &mut self.processes[index];
        state.version += 1;
        let event = ProcessPublished {
            process_id: state.id,
            title: Title::parse("title", spec.title).expect("short titles"),
            department: Title::parse("department", DEPARTMENTS[spec.department])
                .expect("short titles"),
            version: state.version,
            parent: spec.parent.map(|parent| self.processes[parent].id),
            links: self.processes[index].links.clone(),
            owner: self.staff.department_heads[spec.department].clone(),
            summary: Some(text(spec.summary)),
        };
        let owner = self.staff.department_heads[spec.department].clone();
        if self.emit(at, &owner, None, event) {
            self.train(index, at);
        }
    }

    /// Training on a version: each of the department's staff with the process's share, over
    /// the following weeks.
    fn train(&mut self, index: usize, published_at: i64) {
        let spec = &PROCESSES[index];
        let (id, version) = (self.processes[index].id, self.processes[index].version);
        let trainer = self.staff.department_heads[spec.department].clone();
        let trainees: Vec<StaffId> = self
            .staff
            .trainees(spec.department)
            .into_iter()
            .cloned()
            .collect();
        let published_day = clock::local_day(published_at);
        for staff in trainees {
            if !self.rng.chance(spec.training_share) {
                continue;
            }
            let day = published_day + self.rng.range(2, 45);
            let at = clock::business_moment_on(&mut self.rng, day);
            let trainer = self.rng.chance(0.8).then(|| trainer.clone());
            let event = ProcessTrainingRecorded {
                process_id: id,
                staff,
                version,
                trainer,
            };
            let system = self.staff.systems.office_automation.clone();
            self.emit(at, &system, None, event);
        }
    }

    /// A revised version of a process that is part of the network, sometimes with a new
    /// link; the next revision is planned.
    pub(crate) fn revise_process(&mut self) {
        let gap = round_clamped(self.rng.exponential(110.0), 20, 400);
        let at = self.now + days(gap) + self.rng.range(0, DAY - 1);
        let at = clock::business_moment_after(&mut self.rng, at);
        self.schedule(at, Action::ProcessRevision);
        let candidates: Vec<usize> = (0..PROCESSES.len())
            .filter(|&index| PROCESSES[index].training_share > 0.0)
            .collect();
        let index = candidates[self.rng.index(candidates.len())];
        if index > 1 && self.rng.chance(0.3) {
            let link = self.processes[self.rng.index(index)].id;
            let parent = PROCESSES[index]
                .parent
                .map(|parent| self.processes[parent].id);
            let state = &mut self.processes[index];
            if !state.links.contains(&link) && Some(link) != parent && link != state.id {
                state.links.push(link);
            }
        }
        self.publish(index, self.now);
    }
}
