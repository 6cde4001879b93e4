//! Word lists of the demo data: invented people's names, place names, cadre units and the
//! phrases work teams write in their visit logs.

use rand::Rng;
use rand::seq::SliceRandom;

/// Common surnames, most frequent first; the first ones are drawn more often.
const SURNAMES: &[&str] = &[
    "李", "王", "张", "刘", "陈", "杨", "赵", "黄", "周", "吴", "徐", "孙", "胡", "朱", "高", "林",
    "何", "郭", "马", "罗", "梁", "宋", "郑", "谢", "韩", "唐", "冯", "于", "董", "萧", "程", "曹",
    "袁", "邓", "许", "傅", "沈", "曾", "彭", "吕", "苏", "卢", "蒋", "蔡", "贾", "丁", "魏", "薛",
    "叶", "阎", "余", "潘", "杜", "戴", "夏", "钟", "汪", "田", "任", "姜", "范", "方", "石", "姚",
    "谭", "廖", "邹", "熊", "金", "陆", "郝", "孔", "白", "崔", "康", "毛", "邱", "秦", "江", "史",
    "顾", "侯", "邵", "孟", "龙", "万", "段", "雷", "钱", "汤", "尹", "黎", "易", "常", "武", "乔",
    "贺", "赖", "龚", "文", "普", "陶", "刀", "岩", "和",
];

const MALE_GIVEN: &[&str] = &[
    "建", "国", "华", "明", "强", "军", "平", "伟", "文", "辉", "勇", "忠", "林", "波", "斌", "福",
    "贵", "荣", "德", "发", "成", "学", "志", "海", "云", "东", "春", "兴", "有", "金", "宝", "才",
    "顺", "永", "光", "祥", "生", "保", "正", "昌", "家", "开", "红", "新", "涛", "浩", "宇", "鹏",
    "杰", "磊", "超", "俊", "飞", "峰", "龙", "江", "山", "洪", "树", "亮",
];

const FEMALE_GIVEN: &[&str] = &[
    "秀", "英", "华", "兰", "芳", "珍", "玉", "梅", "美", "凤", "琼", "艳", "丽", "红", "云", "桂",
    "春", "萍", "霞", "莲", "菊", "娟", "燕", "敏", "静", "婷", "雪", "琴", "花", "翠", "仙", "妹",
    "香", "月", "慧", "佳", "欣", "颖", "丹", "倩", "娜", "蓉", "洁", "晶", "莉",
];

/// A surname, drawn with the frequent ones more likely, as in a real village.
pub fn surname(rng: &mut impl Rng) -> &'static str {
    // Half the draws come from the 20 most common surnames.
    let pool = if rng.gen_bool(0.5) {
        &SURNAMES[..20]
    } else {
        SURNAMES
    };
    pool.choose(rng).copied().unwrap_or("李")
}

/// A given name of one or two characters; a full name has two or three characters.
pub fn given_name(rng: &mut impl Rng, male: bool) -> String {
    let pool = if male { MALE_GIVEN } else { FEMALE_GIVEN };
    let first = pool.choose(rng).copied().unwrap_or("华");
    if rng.gen_bool(0.2) {
        return first.to_owned();
    }
    let second = pool.choose(rng).copied().unwrap_or("明");
    format!("{first}{second}")
}

pub fn full_name(rng: &mut impl Rng, surname: &str, male: bool) -> String {
    format!("{surname}{}", given_name(rng, male))
}

/// 村民小组 names of a mountain village.
pub const GROUPS: &[&str] = &[
    "上寨组",
    "下寨组",
    "中寨组",
    "新寨组",
    "老寨组",
    "大寨组",
    "小寨组",
    "坡头组",
    "河边组",
    "箐口组",
    "田坝组",
    "松林组",
];

const PLACE_FIRST: &[&str] = &[
    "勐", "曼", "新", "大", "小", "龙", "石", "松", "竹", "河", "坝", "岩", "清", "白", "黑", "红",
    "团", "平", "中", "南", "东", "西", "北", "宝", "凤", "嘎", "整", "牛", "马", "茶",
];

const PLACE_SECOND: &[&str] = &[
    "康", "烈", "文", "田", "山", "林", "塘", "坪", "河", "滩", "安", "和", "丰", "兴", "宁", "发",
    "仓", "水", "坡", "寨", "树", "溪", "岗", "湾", "源", "沙", "龙", "乐", "洞", "乃",
];

/// An invented two-character place name (the caller adds 镇/乡/村).
pub fn place_name(rng: &mut impl Rng) -> String {
    let first = PLACE_FIRST.choose(rng).copied().unwrap_or("新");
    let second = PLACE_SECOND.choose(rng).copied().unwrap_or("文");
    format!("{first}{second}")
}

/// Mobile numbers `^1[3-9]\d{9}$`, with the prefixes rural subscribers have.
pub fn mobile(rng: &mut impl Rng) -> String {
    const PREFIXES: &[&str] = &[
        "130", "131", "133", "135", "136", "138", "139", "150", "151", "152", "157", "158", "159",
        "173", "177", "180", "181", "182", "187", "188", "189", "199",
    ];
    let prefix = PREFIXES.choose(rng).copied().unwrap_or("139");
    format!("{prefix}{:08}", rng.gen_range(0..100_000_000u32))
}

/// Cadre units by 单位隶属 code; `{county}`, `{township}` and `{village}` are filled in.
pub const UNITS: &[(&str, &[&str])] = &[
    ("1", &["云南省林业厅", "云南省交通运输厅", "云南省农业厅"]),
    (
        "2",
        &["普洱市扶贫开发办公室", "普洱市财政局", "普洱市农业局"],
    ),
    (
        "3",
        &[
            "{county}农业局",
            "{county}教育局",
            "{county}卫生和计划生育局",
            "{county}人力资源和社会保障局",
            "{county}财政局",
            "{county}林业局",
            "{county}水务局",
            "{county}住房和城乡建设局",
            "{county}民政局",
            "{county}扶贫开发办公室",
        ],
    ),
    (
        "4",
        &[
            "{township}人民政府",
            "{township}农业综合服务中心",
            "{township}中心学校",
        ],
    ),
    ("5", &["{village}村民委员会"]),
];

/// 职务 by 单位隶属 code.
pub fn title(rng: &mut impl Rng, level: &str) -> &'static str {
    let titles: &[&str] = match level {
        "1" | "2" => &["副处长", "主任科员", "科员", "驻村第一书记"],
        "3" => &["副局长", "股长", "办公室主任", "科员", "驻村工作队员"],
        "4" => &["副镇长", "站长", "干部", "驻村工作队员"],
        _ => &["村党总支书记", "村委会主任", "村委会副主任", "村文书"],
    };
    titles.choose(rng).copied().unwrap_or("干部")
}

/// 发展意向 as households state them: the industry they want to build up.
pub const INTENTS: &[&str] = &[
    "养殖生猪",
    "种植茶叶",
    "种植咖啡",
    "种植核桃",
    "养殖黄牛",
    "种植甘蔗",
    "养殖山羊",
    "种植蔬菜",
    "发展林下养鸡",
    "种植橡胶",
    "养蜂",
];

/// What a cadre found on a visit, by theme.
pub const FOUND_GENERAL: &[&str] = &[
    "家中{n}人在家，了解家庭收入和生产情况，{intent}进展正常",
    "户主反映今年收成一般，希望继续得到产业扶持",
    "核对家庭成员信息，无变化",
    "了解两不愁三保障落实情况，吃穿不愁",
    "家中人员外出务工，与在家老人了解情况",
    "查看产业发展情况，{intent}情况良好",
];
pub const FOUND_HEALTH: &[&str] = &["家中有病人，了解就医和报销情况", "病人病情稳定，按时服药"];
pub const FOUND_SCHOOL: &[&str] = &["了解子女上学情况，在校表现良好", "询问学生资助是否到位"];
pub const FOUND_HOUSE: &[&str] = &[
    "查看住房情况，房屋有裂缝，存在安全隐患",
    "危房改造工程进度过半",
];

/// What the cadre did about it.
pub const DONE_GENERAL: &[&str] = &[
    "宣传精准扶贫政策，讲解产业扶持资金“2355”使用办法",
    "帮助制定年度增收计划",
    "联系技术员上门指导{intent}",
    "讲解扶贫小额信贷政策",
    "更新帮扶手册，核实收入台账",
    "张贴帮扶联系卡，告知监督电话",
    "介绍务工信息，动员外出务工",
];
pub const DONE_HEALTH: &[&str] = &["协助办理大病医疗救助", "联系家庭签约医生上门随访"];
pub const DONE_SCHOOL: &[&str] = &["协助申请教育资助", "宣传控辍保学政策"];
pub const DONE_HOUSE: &[&str] = &["协助申报农村危房改造", "督促施工队加快进度"];

/// Picks a phrase and fills its placeholders.
pub fn phrase(rng: &mut impl Rng, pool: &[&str], members: usize, intent: &str) -> String {
    let template = pool.choose(rng).copied().unwrap_or("了解家庭情况");
    template
        .replace("{n}", &members.to_string())
        .replace("{intent}", intent)
}
