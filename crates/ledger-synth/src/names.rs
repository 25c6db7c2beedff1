//! The vocabulary of the synthetic world: regions of Jilin and its neighbours (plates, ID card
//! region codes, area codes, addresses), Chinese personal and company names, and the texts
//! staff write (contact summaries, loss descriptions, survey findings).

use crate::rng::Rng;

/// Where a customer lives or a company is registered.
#[derive(Debug)]
pub(crate) struct Region {
    /// `吉林省长春市`.
    pub(crate) prefix: &'static str,
    /// The city alone, for company names and locations: `长春`.
    pub(crate) city: &'static str,
    /// Province character and issuing-office letter of its plates: `吉A`.
    pub(crate) plate: &'static str,
    /// Landline area code.
    pub(crate) area_code: &'static str,
    /// Districts with their six-digit administrative division codes (the first six digits of
    /// a resident ID card number issued there).
    pub(crate) districts: &'static [(&'static str, &'static str)],
    pub(crate) streets: &'static [&'static str],
    /// Share of customers living here.
    pub(crate) weight: f64,
}

/// Jilin's cities (plates 吉A to 吉J) and the neighbouring provinces' capitals and border
/// cities. About nine customers in ten live in Jilin.
pub(crate) const REGIONS: &[Region] = &[
    Region {
        prefix: "吉林省长春市",
        city: "长春",
        plate: "吉A",
        area_code: "0431",
        districts: &[
            ("南关区", "220102"),
            ("宽城区", "220103"),
            ("朝阳区", "220104"),
            ("二道区", "220105"),
            ("绿园区", "220106"),
            ("双阳区", "220112"),
            ("九台区", "220113"),
            ("农安县", "220122"),
            ("榆树市", "220182"),
            ("德惠市", "220183"),
        ],
        streets: &[
            "人民大街",
            "解放大路",
            "自由大路",
            "东风大街",
            "亚泰大街",
            "卫星路",
            "前进大街",
            "红旗街",
            "普阳街",
            "延安大路",
            "建设街",
            "西安大路",
            "珠江路",
            "繁荣路",
        ],
        weight: 0.50,
    },
    Region {
        prefix: "吉林省吉林市",
        city: "吉林",
        plate: "吉B",
        area_code: "0432",
        districts: &[
            ("昌邑区", "220202"),
            ("龙潭区", "220203"),
            ("船营区", "220204"),
            ("丰满区", "220211"),
        ],
        streets: &[
            "解放中路",
            "重庆街",
            "吉林大街",
            "北京路",
            "松江东路",
            "遵义东路",
        ],
        weight: 0.13,
    },
    Region {
        prefix: "吉林省四平市",
        city: "四平",
        plate: "吉C",
        area_code: "0434",
        districts: &[("铁西区", "220302"), ("铁东区", "220303")],
        streets: &["英雄大路", "紫气大路", "北沿河路"],
        weight: 0.05,
    },
    Region {
        prefix: "吉林省辽源市",
        city: "辽源",
        plate: "吉D",
        area_code: "0437",
        districts: &[("龙山区", "220402"), ("西安区", "220403")],
        streets: &["人民大街", "东吉大路"],
        weight: 0.03,
    },
    Region {
        prefix: "吉林省通化市",
        city: "通化",
        plate: "吉E",
        area_code: "0435",
        districts: &[("东昌区", "220502"), ("二道江区", "220503")],
        streets: &["新华大街", "建设大街", "江南大街"],
        weight: 0.04,
    },
    Region {
        prefix: "吉林省白山市",
        city: "白山",
        plate: "吉F",
        area_code: "0439",
        districts: &[("浑江区", "220602")],
        streets: &["浑江大街", "长白山大街"],
        weight: 0.02,
    },
    Region {
        prefix: "吉林省白城市",
        city: "白城",
        plate: "吉G",
        area_code: "0436",
        districts: &[("洮北区", "220802")],
        streets: &["中兴西大路", "海明路"],
        weight: 0.03,
    },
    Region {
        prefix: "吉林省延边朝鲜族自治州延吉市",
        city: "延吉",
        plate: "吉H",
        area_code: "0433",
        districts: &[("延吉市", "222401"), ("珲春市", "222404")],
        streets: &["光明街", "人民路", "长白路"],
        weight: 0.04,
    },
    Region {
        prefix: "吉林省松原市",
        city: "松原",
        plate: "吉J",
        area_code: "0438",
        districts: &[("宁江区", "220702"), ("前郭尔罗斯蒙古族自治县", "220721")],
        streets: &["沿江东路", "锦江大路", "乌兰大街"],
        weight: 0.04,
    },
    Region {
        prefix: "辽宁省沈阳市",
        city: "沈阳",
        plate: "辽A",
        area_code: "024",
        districts: &[
            ("和平区", "210102"),
            ("沈河区", "210103"),
            ("铁西区", "210106"),
        ],
        streets: &["中华路", "青年大街", "北京街"],
        weight: 0.04,
    },
    Region {
        prefix: "辽宁省大连市",
        city: "大连",
        plate: "辽B",
        area_code: "0411",
        districts: &[("中山区", "210202"), ("沙河口区", "210204")],
        streets: &["人民路", "中山路"],
        weight: 0.01,
    },
    Region {
        prefix: "黑龙江省哈尔滨市",
        city: "哈尔滨",
        plate: "黑A",
        area_code: "0451",
        districts: &[("道里区", "230102"), ("南岗区", "230103")],
        streets: &["中央大街", "红军街", "中山路"],
        weight: 0.03,
    },
    Region {
        prefix: "内蒙古自治区通辽市",
        city: "通辽",
        plate: "蒙G",
        area_code: "0475",
        districts: &[("科尔沁区", "150502")],
        streets: &["霍林河大街", "建国路"],
        weight: 0.01,
    },
];

/// A region index chosen by where customers live.
pub(crate) fn pick_region(rng: &mut Rng) -> usize {
    rng.weighted_by(REGIONS, |region| region.weight)
}

/// Surnames with their pinyin and relative frequency in north-east China (金, 朴 and 崔
/// for Yanbian's Korean families; 关, 那 and 佟 for Manchu ones).
const SURNAMES: &[(&str, &str, f64)] = &[
    ("王", "wang", 7.1),
    ("李", "li", 7.0),
    ("张", "zhang", 6.7),
    ("刘", "liu", 5.4),
    ("陈", "chen", 3.5),
    ("杨", "yang", 3.1),
    ("赵", "zhao", 2.8),
    ("孙", "sun", 2.2),
    ("黄", "huang", 1.6),
    ("周", "zhou", 2.0),
    ("吴", "wu", 1.8),
    ("徐", "xu", 1.6),
    ("胡", "hu", 1.2),
    ("朱", "zhu", 1.1),
    ("高", "gao", 1.4),
    ("林", "lin", 0.9),
    ("何", "he", 0.8),
    ("郭", "guo", 1.1),
    ("马", "ma", 1.2),
    ("罗", "luo", 0.7),
    ("梁", "liang", 0.7),
    ("宋", "song", 0.8),
    ("郑", "zheng", 0.7),
    ("谢", "xie", 0.6),
    ("韩", "han", 0.9),
    ("唐", "tang", 0.6),
    ("冯", "feng", 0.6),
    ("于", "yu", 1.0),
    ("董", "dong", 0.7),
    ("程", "cheng", 0.5),
    ("曹", "cao", 0.5),
    ("袁", "yuan", 0.4),
    ("邓", "deng", 0.4),
    ("许", "xu", 0.5),
    ("沈", "shen", 0.4),
    ("曾", "zeng", 0.3),
    ("彭", "peng", 0.4),
    ("吕", "lv", 0.4),
    ("苏", "su", 0.4),
    ("卢", "lu", 0.4),
    ("蒋", "jiang", 0.4),
    ("蔡", "cai", 0.3),
    ("贾", "jia", 0.4),
    ("丁", "ding", 0.4),
    ("魏", "wei", 0.5),
    ("薛", "xue", 0.3),
    ("叶", "ye", 0.3),
    ("阎", "yan", 0.3),
    ("潘", "pan", 0.3),
    ("杜", "du", 0.4),
    ("姜", "jiang", 0.5),
    ("崔", "cui", 0.5),
    ("金", "jin", 0.5),
    ("朴", "piao", 0.2),
    ("孟", "meng", 0.4),
    ("白", "bai", 0.3),
    ("任", "ren", 0.3),
    ("付", "fu", 0.4),
    ("石", "shi", 0.3),
    ("姚", "yao", 0.2),
    ("邹", "zou", 0.2),
    ("关", "guan", 0.2),
    ("那", "na", 0.05),
    ("佟", "tong", 0.1),
    ("欧阳", "ouyang", 0.03),
    ("司马", "sima", 0.01),
];

const MALE_GIVEN: &[(&str, &str)] = &[
    ("伟", "wei"),
    ("强", "qiang"),
    ("磊", "lei"),
    ("军", "jun"),
    ("洋", "yang"),
    ("勇", "yong"),
    ("杰", "jie"),
    ("涛", "tao"),
    ("明", "ming"),
    ("超", "chao"),
    ("刚", "gang"),
    ("平", "ping"),
    ("辉", "hui"),
    ("鹏", "peng"),
    ("飞", "fei"),
    ("鑫", "xin"),
    ("波", "bo"),
    ("斌", "bin"),
    ("宇", "yu"),
    ("浩", "hao"),
    ("凯", "kai"),
    ("健", "jian"),
    ("俊", "jun"),
    ("帆", "fan"),
    ("旭", "xu"),
    ("龙", "long"),
    ("博", "bo"),
    ("文", "wen"),
    ("东", "dong"),
    ("海", "hai"),
    ("峰", "feng"),
    ("亮", "liang"),
    ("成", "cheng"),
    ("志", "zhi"),
    ("国", "guo"),
    ("建", "jian"),
    ("永", "yong"),
    ("德", "de"),
    ("春", "chun"),
    ("立", "li"),
    ("晨", "chen"),
    ("睿", "rui"),
    ("泽", "ze"),
    ("铭", "ming"),
    ("轩", "xuan"),
    ("昊", "hao"),
];

const FEMALE_GIVEN: &[(&str, &str)] = &[
    ("芳", "fang"),
    ("娜", "na"),
    ("敏", "min"),
    ("静", "jing"),
    ("丽", "li"),
    ("艳", "yan"),
    ("娟", "juan"),
    ("霞", "xia"),
    ("燕", "yan"),
    ("玲", "ling"),
    ("婷", "ting"),
    ("雪", "xue"),
    ("慧", "hui"),
    ("莹", "ying"),
    ("颖", "ying"),
    ("琳", "lin"),
    ("晶", "jing"),
    ("洁", "jie"),
    ("欣", "xin"),
    ("悦", "yue"),
    ("佳", "jia"),
    ("倩", "qian"),
    ("丹", "dan"),
    ("红", "hong"),
    ("梅", "mei"),
    ("萍", "ping"),
    ("秀", "xiu"),
    ("英", "ying"),
    ("兰", "lan"),
    ("月", "yue"),
    ("琪", "qi"),
    ("璐", "lu"),
    ("蕾", "lei"),
    ("雅", "ya"),
    ("婉", "wan"),
    ("思", "si"),
    ("雨", "yu"),
    ("淑", "shu"),
    ("凤", "feng"),
    ("桂", "gui"),
];

/// A person's name in characters and in pinyin (for e-mail addresses).
#[derive(Debug, Clone)]
pub(crate) struct PersonalName {
    pub(crate) hanzi: String,
    pub(crate) pinyin: String,
}

/// A plausible name: a surname by frequency and a one- or two-character given name.
pub(crate) fn personal_name(rng: &mut Rng, male: bool) -> PersonalName {
    let (surname, surname_pinyin, _) = SURNAMES[rng.weighted_by(SURNAMES, |surname| surname.2)];
    let pool = if male { MALE_GIVEN } else { FEMALE_GIVEN };
    let mut hanzi = surname.to_owned();
    let mut pinyin = surname_pinyin.to_owned();
    let characters = if rng.chance(0.35) { 1 } else { 2 };
    for _ in 0..characters {
        let (character, sound) = rng.pick(pool);
        hanzi.push_str(character);
        pinyin.push_str(sound);
    }
    PersonalName { hanzi, pinyin }
}

/// The carmaker group (一汽集团) every group customer belongs to.
pub(crate) const GROUP_NAME: &str = "中国第一汽车集团有限公司";

/// Member companies of the group. Past the end of the list, branches and fleets of these
/// companies (`…长春分公司`, `…第3运输车队`) keep every name distinct.
const GROUP_MEMBERS: &[&str] = &[
    "中国第一汽车股份有限公司",
    "一汽解放集团股份有限公司",
    "一汽-大众汽车有限公司",
    "一汽物流有限公司",
    "一汽国际物流有限公司",
    "长春一汽富维汽车零部件股份有限公司",
    "一汽富晟集团有限公司",
    "一汽客车有限公司",
    "一汽模具制造有限公司",
    "一汽铸造有限公司",
    "一汽锻造（吉林）有限公司",
    "一汽吉林汽车有限公司",
    "一汽奔腾汽车股份有限公司",
    "一汽红旗汽车销售有限公司",
    "一汽丰田汽车销售有限公司",
    "一汽出行科技有限公司",
    "一汽租赁有限公司",
    "一汽财务有限公司",
    "启明信息技术股份有限公司",
    "一汽解放青岛汽车有限公司",
    "一汽解放大连柴油机有限公司",
    "一汽资产经营管理有限公司",
    "一汽解放汽车销售有限公司",
    "一汽-大众销售有限责任公司",
];

const GROUP_BRANCHES: &[&str] = &[
    "长春分公司",
    "吉林分公司",
    "沈阳分公司",
    "哈尔滨分公司",
    "天津分公司",
    "成都分公司",
    "佛山分公司",
    "青岛分公司",
    "大连分公司",
    "北京分公司",
];

/// The `index`-th group member company (distinct for every index).
pub(crate) fn group_company_name(index: usize) -> String {
    let base = GROUP_MEMBERS[index % GROUP_MEMBERS.len()];
    let round = index / GROUP_MEMBERS.len();
    if round == 0 {
        return base.to_owned();
    }
    let branch = GROUP_BRANCHES[(round - 1) % GROUP_BRANCHES.len()];
    let fleet = (round - 1) / GROUP_BRANCHES.len();
    if fleet == 0 {
        format!("{base}{branch}")
    } else {
        format!("{base}{branch}第{fleet}运输车队")
    }
}

const BRAND_CHARACTERS: &[&str] = &[
    "恒", "信", "宏", "达", "金", "源", "鑫", "盛", "远", "通", "顺", "华", "阳", "百", "联", "运",
    "泰", "安", "丰", "瑞", "隆", "福", "兴", "嘉", "宇", "新", "世", "纪", "东", "方", "北", "辰",
    "长", "久", "和", "祥", "润", "德", "正", "吉",
];

/// Lines of business of corporate customers outside the group; driving schools run cars
/// with 学 plates.
pub(crate) const INDUSTRIES: &[&str] = &[
    "物流有限公司",
    "运输有限公司",
    "出租汽车有限公司",
    "客运有限公司",
    "建筑工程有限公司",
    "商贸有限公司",
    "汽车租赁有限公司",
    "食品有限公司",
    "医药有限公司",
    "农业科技有限公司",
    "汽车销售服务有限公司",
    "机动车驾驶员培训有限公司",
    "混凝土有限公司",
    "电力工程有限公司",
    "快递服务有限公司",
    "环卫服务有限公司",
];

/// The index in [`INDUSTRIES`] of driving schools.
pub(crate) const DRIVING_SCHOOL: usize = 11;

/// A company outside the group: city, a two-character trade name and a line of business.
pub(crate) fn company_name(rng: &mut Rng, city: &str, industry: usize) -> String {
    let first = rng.pick(BRAND_CHARACTERS);
    let mut second = rng.pick(BRAND_CHARACTERS);
    while second == first {
        second = rng.pick(BRAND_CHARACTERS);
    }
    format!("{city}{first}{second}{}", INDUSTRIES[industry])
}

/// A street address in `region`; people's addresses carry a flat, companies' do not.
pub(crate) fn address(rng: &mut Rng, region: &Region, with_flat: bool) -> String {
    let (district, _) = rng.pick(region.districts);
    let street = rng.pick(region.streets);
    let number = rng.range(1, 3_999);
    if with_flat {
        let building = rng.range(1, 30);
        let unit = rng.range(1, 6);
        let room = rng.range(1, 18) * 100 + rng.range(1, 4);
        format!(
            "{}{district}{street}{number}号{building}栋{unit}单元{room}室",
            region.prefix
        )
    } else {
        format!("{}{district}{street}{number}号", region.prefix)
    }
}

/// Where a loss happened: a junction in the customer's city.
pub(crate) fn loss_location(rng: &mut Rng, region: &Region) -> String {
    let (district, _) = rng.pick(region.districts);
    let first = rng.pick(region.streets);
    let mut second = rng.pick(region.streets);
    if second == first {
        second = rng.pick(region.streets);
    }
    if first == second {
        format!("{}{district}{first}", region.city)
    } else {
        format!("{}{district}{first}与{second}交汇处", region.city)
    }
}

/// Kinds of road loss, with what the customer says and what the surveyor finds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum LossKind {
    RearEnd,
    Scrape,
    IcySkid,
    Parked,
    Glass,
    Wading,
    SingleVehicle,
    Injury,
    Theft,
    Fire,
}

impl LossKind {
    pub(crate) fn description(self) -> &'static str {
        match self {
            Self::RearEnd => "等红灯时被后车追尾，后保险杠受损",
            Self::Scrape => "并线时与相邻车辆发生刮擦，左侧车门划伤",
            Self::IcySkid => "冰雪路面制动侧滑，撞上路边护栏，前部受损",
            Self::Parked => "车辆停放时被不明车辆碰撞，对方已驶离",
            Self::Glass => "高速行驶中被飞石击中，前挡风玻璃破裂",
            Self::Wading => "暴雨积水路段涉水行驶后发动机熄火",
            Self::SingleVehicle => "倒车时撞到立柱，后尾灯及保险杠受损",
            Self::Injury => "路口转弯时与电动自行车相撞，骑车人受伤送医",
            Self::Theft => "车辆夜间停放在小区外被盗，已向公安机关报案",
            Self::Fire => "行驶中发动机舱冒烟起火，已扑灭，车辆受损严重",
        }
    }

    pub(crate) fn findings(self) -> &'static str {
        match self {
            Self::RearEnd => "后保险杠、左尾灯需更换，后围板轻微变形需钣金",
            Self::Scrape => "左前门及左后门漆面受损，需喷漆修复，无结构损伤",
            Self::IcySkid => "前保险杠、左大灯、散热器框架需更换，气囊未弹出",
            Self::Parked => "右后叶子板凹陷，需钣金喷漆；调取监控未能确认对方车辆",
            Self::Glass => "前挡风玻璃需整体更换，其余部位无损",
            Self::Wading => "发动机进水导致连杆弯曲，需大修；属涉水损失责任",
            Self::SingleVehicle => "后保险杠更换，左尾灯更换，倒车雷达一个损坏",
            Self::Injury => "车辆前部轻微受损；第三者左腿骨折，需住院治疗",
            Self::Theft => "公安机关已立案，六十日内未找回，按全车盗抢责任处理",
            Self::Fire => "发动机舱线束及部分部件烧毁，经鉴定为线路老化自燃",
        }
    }

    /// Typical assessed loss in yuan (the median of a log-normal).
    pub(crate) fn median_loss_yuan(self) -> f64 {
        match self {
            Self::RearEnd => 3_500.0,
            Self::Scrape => 1_800.0,
            Self::IcySkid => 6_500.0,
            Self::Parked => 2_500.0,
            Self::Glass => 2_200.0,
            Self::Wading => 18_000.0,
            Self::SingleVehicle => 2_800.0,
            Self::Injury => 25_000.0,
            Self::Theft => 90_000.0,
            Self::Fire => 40_000.0,
        }
    }
}

/// A kind of loss for a month (1-12): ice in winter, rainstorms in summer.
pub(crate) fn loss_kind(rng: &mut Rng, month: usize) -> LossKind {
    let winter = matches!(month, 11 | 12 | 1 | 2 | 3);
    let rainy = matches!(month, 7 | 8);
    rng.weighted_pick(&[
        (LossKind::RearEnd, 26.0),
        (LossKind::Scrape, 22.0),
        (LossKind::IcySkid, if winter { 24.0 } else { 1.0 }),
        (LossKind::Parked, 10.0),
        (LossKind::Glass, 8.0),
        (LossKind::Wading, if rainy { 8.0 } else { 0.3 }),
        (LossKind::SingleVehicle, 12.0),
        (LossKind::Injury, 4.0),
        (LossKind::Theft, 0.3),
        (LossKind::Fire, 0.3),
    ])
}

/// Contact summaries, by what the contact was about.
pub(crate) mod summaries {
    pub(crate) const ENQUIRY: &[&str] = &[
        "咨询保单保障范围及免赔额，已逐项解释",
        "咨询交强险与商业险的区别，已说明",
        "查询保单状态及保险期间，已告知",
        "咨询车辆过户后保单如何处理，已说明批改流程",
        "咨询异地出险如何报案，已告知全国统一服务热线",
        "咨询新能源车专属条款，已发送产品说明",
        "咨询电子保单下载方式，已指导在微信公众号操作",
        "咨询车险无赔款优待系数，已解释",
    ];
    pub(crate) const PAYMENT: &[&str] = &[
        "咨询保费缴纳方式，已告知网银及微信支付渠道",
        "客户反映保费已扣款但未出单，核实后已出单",
        "申请开具保费发票，已通过电子邮件发送",
        "查询理赔款到账情况，已告知银行处理进度",
    ];
    pub(crate) const SERVICE_REQUEST: &[&str] = &[
        "申请变更联系电话，已核实身份并更新",
        "申请补寄纸质保单，已安排快递",
        "预约免费车辆安全检测，已登记",
        "申请道路救援服务说明，已发送服务手册",
        "要求更正保单车主地址，已转承保部门处理",
    ];
    pub(crate) const FEEDBACK: &[&str] = &[
        "对理赔人员服务表示满意",
        "建议增加微信端自助理赔功能",
        "反映客服电话等待时间较长",
        "表扬查勘员到场及时",
    ];
    pub(crate) const COMPLAINT: &[&str] = &[
        "投诉理赔款迟迟未到账，超过承诺时效",
        "投诉查勘定损金额偏低，与修理厂报价差距较大",
        "投诉客服多次转接未解决问题",
        "投诉续保保费上涨未提前告知",
        "投诉拒赔理由不合理，要求复核",
        "投诉营销电话过于频繁",
    ];
    pub(crate) const RENEWAL_REMINDER: &[&str] = &[
        "保单即将到期，提醒客户续保并介绍续保优惠",
        "续保提醒：已告知续保报价及无赔款优待",
        "客户经理上门沟通车队续保方案",
    ];
    pub(crate) const RENEWAL_DONE: &[&str] = &[
        "客户确认续保，已完成缴费出单",
        "续保成功，保单已通过微信推送",
    ];
    pub(crate) const QUOTE: &[&str] = &[
        "为客户报价新车交强险及商业险，已发送报价单",
        "网上咨询回呼：客户询问保费，已报价",
        "为客户增购车辆报价",
    ];
    pub(crate) const CLAIM_REPORT: &[&str] = &[
        "客户报案，已记录出险经过并安排查勘",
        "24小时热线报案，已派查勘员前往现场",
        "客户通过微信自助报案，系统已受理",
    ];
    pub(crate) const CLAIM_FOLLOW_UP: &[&str] = &[
        "一次性告知索赔所需资料清单",
        "告知定损结果及维修厂安排",
        "通知客户理赔款已支付",
        "回访理赔进度，客户资料尚未补齐",
        "收到客户提交的索赔资料，已核对齐全",
    ];
    pub(crate) const SURVEY_CALL: &[&str] = &[
        "理赔结案满意度回访",
        "服务工单满意度回访",
        "客户经理季度满意度调查",
    ];
    pub(crate) const MARKETING: &[&str] = &[
        "营销活动电话邀约，介绍活动优惠",
        "向客户介绍集团员工专享车险方案",
        "冬季安全检测活动邀约",
        "流失客户回访，介绍续保优惠",
    ];
    pub(crate) const ACCOUNT_MANAGER: &[&str] = &[
        "客户经理季度走访，沟通车队风险管理需求",
        "客户经理沟通车队新增车辆投保事宜",
        "客户经理回访大客户专属服务落实情况",
        "新任客户经理到任拜访，交接服务事项",
    ];
    pub(crate) const CORRECTION_REASONS: &[&str] = &[
        "通话时长按话务系统记录更正",
        "联络主题录入错误，更正为实际咨询内容",
        "关联保单号录入错误，已更正",
    ];
}
