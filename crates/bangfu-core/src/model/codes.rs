//! Value lists of the filing forms: stable codes stored in the database, exact Chinese labels shown.

use serde::Serialize;

/// One value list of a form: (code, label) pairs in the order the paper form lists them.
#[derive(ts_rs::TS, Debug, Clone, Copy, Serialize)]
pub struct CodeList {
    /// Stable identifier of the list, used by the UI to fetch it.
    pub key: &'static str,
    /// The form's name for the field this list fills.
    pub title: &'static str,
    pub entries: &'static [(&'static str, &'static str)],
}

impl CodeList {
    /// The label of a code, if the code belongs to this list.
    pub fn label(&self, code: &str) -> Option<&'static str> {
        self.entries
            .iter()
            .find(|(c, _)| *c == code)
            .map(|(_, l)| *l)
    }

    /// The code of a label, accepting the exact label or a known spelling variant.
    pub fn code_of(&self, label: &str) -> Option<&'static str> {
        let wanted = label.trim();
        self.entries
            .iter()
            .find(|(c, l)| *l == wanted || *c == wanted)
            .map(|(c, _)| *c)
    }

    pub fn contains(&self, code: &str) -> bool {
        self.label(code).is_some()
    }
}

pub const IDENTIFY_STANDARD: CodeList = CodeList {
    key: "identify_standard",
    title: "识别标准",
    entries: &[("1", "国家标准"), ("2", "省定标准"), ("3", "市定标准")],
};

pub const HOUSEHOLD_ATTRIBUTE: CodeList = CodeList {
    key: "household_attribute",
    title: "贫困户属性",
    entries: &[
        ("1", "一般贫困户"),
        ("2", "低保贫困户"),
        ("3", "特困供养贫困户"),
    ],
};

/// 未脱贫: every household is filed with it.
pub const STATUS_NOT_EXITED: &str = "1";
/// 已脱贫(享受政策).
pub const STATUS_EXITED_WITH_POLICY: &str = "2";
/// 已脱贫(不再享受政策).
pub const STATUS_EXITED: &str = "3";
/// 返贫.
pub const STATUS_RETURNED: &str = "4";

pub const POVERTY_STATUS: CodeList = CodeList {
    key: "poverty_status",
    title: "脱贫状态",
    entries: &[
        ("1", "未脱贫"),
        ("2", "已脱贫(享受政策)"),
        ("3", "已脱贫(不再享受政策)"),
        ("4", "返贫"),
    ],
};

pub const POVERTY_CAUSE: CodeList = CodeList {
    key: "poverty_cause",
    title: "致贫原因",
    entries: &[
        ("01", "因病"),
        ("02", "因残"),
        ("03", "因学"),
        ("04", "因灾"),
        ("05", "缺土地"),
        ("06", "缺水"),
        ("07", "缺技术"),
        ("08", "缺劳力"),
        ("09", "缺资金"),
        ("10", "交通条件落后"),
        ("11", "自身发展动力不足"),
        ("12", "因婚"),
        ("13", "因丧"),
        ("99", "其它"),
    ],
};

pub const ROAD_TYPE: CodeList = CodeList {
    key: "road_type",
    title: "入户路类型",
    entries: &[
        ("1", "泥土路"),
        ("2", "砂石路"),
        ("3", "水泥路"),
        ("4", "沥青路"),
    ],
};

pub const DANGER_LEVEL: CodeList = CodeList {
    key: "danger_level",
    title: "危房级别",
    entries: &[("B", "B级"), ("C", "C级"), ("D", "D级")],
};

pub const FUEL_TYPE: CodeList = CodeList {
    key: "fuel_type",
    title: "主要燃料类型",
    entries: &[
        ("1", "柴草"),
        ("2", "干畜粪"),
        ("3", "煤炭"),
        ("4", "清洁能源"),
        ("9", "其它"),
    ],
};

pub const SEX: CodeList = CodeList {
    key: "sex",
    title: "性别",
    entries: &[("1", "男"), ("2", "女")],
};

/// The code of 户主 in [`RELATION`].
pub const RELATION_HEAD: &str = "01";

pub const RELATION: CodeList = CodeList {
    key: "relation",
    title: "与户主关系",
    entries: &[
        ("01", "户主"),
        ("02", "配偶"),
        ("03", "之子"),
        ("04", "之女"),
        ("05", "之儿媳"),
        ("06", "之女婿"),
        ("07", "之孙子"),
        ("08", "之孙女"),
        ("09", "之外孙子"),
        ("10", "之外孙女"),
        ("11", "之父"),
        ("12", "之母"),
        ("13", "之岳父"),
        ("14", "之岳母"),
        ("15", "之公公"),
        ("16", "之婆婆"),
        ("17", "之祖父"),
        ("18", "之祖母"),
        ("19", "之外祖父"),
        ("20", "之外祖母"),
        ("99", "其他"),
    ],
};

/// 民族, codes of GB/T 3304.
pub const ETHNICITY: CodeList = CodeList {
    key: "ethnicity",
    title: "民族",
    entries: &[
        ("01", "汉族"),
        ("02", "蒙古族"),
        ("03", "回族"),
        ("04", "藏族"),
        ("05", "维吾尔族"),
        ("06", "苗族"),
        ("07", "彝族"),
        ("08", "壮族"),
        ("09", "布依族"),
        ("10", "朝鲜族"),
        ("11", "满族"),
        ("12", "侗族"),
        ("13", "瑶族"),
        ("14", "白族"),
        ("15", "土家族"),
        ("16", "哈尼族"),
        ("17", "哈萨克族"),
        ("18", "傣族"),
        ("19", "黎族"),
        ("20", "傈僳族"),
        ("21", "佤族"),
        ("22", "畲族"),
        ("23", "高山族"),
        ("24", "拉祜族"),
        ("25", "水族"),
        ("26", "东乡族"),
        ("27", "纳西族"),
        ("28", "景颇族"),
        ("29", "柯尔克孜族"),
        ("30", "土族"),
        ("31", "达斡尔族"),
        ("32", "仫佬族"),
        ("33", "羌族"),
        ("34", "布朗族"),
        ("35", "撒拉族"),
        ("36", "毛南族"),
        ("37", "仡佬族"),
        ("38", "锡伯族"),
        ("39", "阿昌族"),
        ("40", "普米族"),
        ("41", "塔吉克族"),
        ("42", "怒族"),
        ("43", "乌孜别克族"),
        ("44", "俄罗斯族"),
        ("45", "鄂温克族"),
        ("46", "德昂族"),
        ("47", "保安族"),
        ("48", "裕固族"),
        ("49", "京族"),
        ("50", "塔塔尔族"),
        ("51", "独龙族"),
        ("52", "鄂伦春族"),
        ("53", "赫哲族"),
        ("54", "门巴族"),
        ("55", "珞巴族"),
        ("56", "基诺族"),
        ("97", "其他"),
    ],
};

pub const POLITICAL_STATUS: CodeList = CodeList {
    key: "political_status",
    title: "政治面貌",
    entries: &[
        ("01", "中共党员"),
        ("02", "中共预备党员"),
        ("03", "共青团员"),
        ("04", "民主党派"),
        ("12", "无党派人士"),
        ("13", "群众"),
    ],
};

pub const EDUCATION: CodeList = CodeList {
    key: "education",
    title: "文化程度",
    entries: &[
        ("1", "文盲或半文盲"),
        ("2", "小学"),
        ("3", "初中"),
        ("4", "高中"),
        ("5", "大专及以上"),
        ("6", "学龄前儿童"),
    ],
};

pub const SCHOOLING: CodeList = CodeList {
    key: "schooling",
    title: "在校生状况",
    entries: &[
        ("00", "非在校生"),
        ("01", "学前教育"),
        ("02", "小学"),
        ("07", "七年级"),
        ("08", "八年级"),
        ("09", "九年级"),
        ("11", "高中一年级"),
        ("12", "高中二年级"),
        ("13", "高中三年级"),
        ("21", "中职一年级"),
        ("22", "中职二年级"),
        ("23", "中职三年级"),
        ("31", "高职一年级"),
        ("32", "高职二年级"),
        ("33", "高职三年级"),
        ("40", "大专及以上"),
    ],
};

/// Health is a set: several codes joined by commas (e.g. "2,4").
/// 健康状况 残疾.
pub const HEALTH_DISABLED: &str = "4";

pub const HEALTH: CodeList = CodeList {
    key: "health",
    title: "健康状况",
    entries: &[
        ("1", "健康"),
        ("2", "长期慢性病"),
        ("3", "患有大病"),
        ("4", "残疾"),
    ],
};

pub const DISABILITY_CATEGORY: CodeList = CodeList {
    key: "disability_category",
    title: "残疾类别",
    entries: &[
        ("1", "视力残疾"),
        ("2", "听力残疾"),
        ("3", "言语残疾"),
        ("4", "肢体残疾"),
        ("5", "智力残疾"),
        ("6", "精神残疾"),
        ("7", "多重残疾"),
    ],
};

pub const DISABILITY_GRADE: CodeList = CodeList {
    key: "disability_grade",
    title: "残疾等级",
    entries: &[("1", "一级"), ("2", "二级"), ("3", "三级"), ("4", "四级")],
};

pub const LABOR_SKILL: CodeList = CodeList {
    key: "labor_skill",
    title: "劳动技能",
    entries: &[
        ("1", "普通劳动力"),
        ("2", "技能劳动力"),
        ("3", "丧失劳动力"),
        ("4", "无劳动力"),
    ],
};

pub const WORK_STATUS: CodeList = CodeList {
    key: "work_status",
    title: "务工状况",
    entries: &[
        ("1", "乡(镇)内务工"),
        ("2", "乡(镇)外县内务工"),
        ("3", "县外省内务工"),
        ("4", "省外务工"),
        ("5", "其他"),
    ],
};

pub const UNIT_LEVEL: CodeList = CodeList {
    key: "unit_level",
    title: "单位隶属",
    entries: &[
        ("1", "省直"),
        ("2", "市直"),
        ("3", "县直"),
        ("4", "乡镇"),
        ("5", "村级"),
    ],
};

/// 帮扶措施: the 七个一批 paths and the three measures counted beside them.
pub const MEASURE_PATH: CodeList = CodeList {
    key: "measure_path",
    title: "帮扶措施类别",
    entries: &[
        ("01", "发展产业"),
        ("02", "易地扶贫搬迁"),
        ("03", "转移就业"),
        ("04", "教育支持"),
        ("05", "生态保护"),
        ("06", "健康救助"),
        ("07", "兜底保障"),
        ("08", "小额信贷"),
        ("09", "公益岗位"),
        ("10", "危房改造"),
    ],
};

pub const MEASURE_STATUS: CodeList = CodeList {
    key: "measure_status",
    title: "落实情况",
    entries: &[("1", "计划"), ("2", "实施中"), ("3", "已完成")],
};

/// 发放渠道: how a payment reached the household.
pub const PAYMENT_CHANNEL: CodeList = CodeList {
    key: "payment_channel",
    title: "发放渠道",
    entries: &[
        ("1", "惠农一卡通"),
        ("2", "银行转账"),
        ("3", "现金"),
        ("4", "实物"),
        ("5", "代缴代付"),
    ],
};

/// 易地扶贫搬迁: the stages of a relocated household's new house, in order.
pub const RELOCATION_STAGE: CodeList = CodeList {
    key: "relocation_stage",
    title: "建设进度",
    entries: &[
        ("1", "开工"),
        ("2", "基础"),
        ("3", "主体"),
        ("4", "竣工"),
        ("5", "入住"),
    ],
};

/// What an attachment (档案) is attached to: a record of the household page.
pub const ATTACHMENT_TARGET: CodeList = CodeList {
    key: "attachment_target",
    title: "附于",
    entries: &[
        ("exit_step", "脱贫退出步骤"),
        ("visit", "走访记录"),
        ("measure", "帮扶措施"),
    ],
};

/// 材料类别 of an attachment: what the photo or scan shows.
pub const ATTACHMENT_KIND: CodeList = CodeList {
    key: "attachment_kind",
    title: "材料类别",
    entries: &[
        ("1", "签字表"),
        ("2", "公示照片"),
        ("3", "会议记录"),
        ("4", "走访照片"),
        ("5", "发放凭证"),
        ("6", "通知"),
        ("9", "其他"),
    ],
};

/// 培训类别: the report's 引导性培训 (户均 1 人, 2 days) and 技能培训 (16-55 岁, with a certificate).
pub const TRAINING_KIND: CodeList = CodeList {
    key: "training_kind",
    title: "培训类别",
    entries: &[("1", "引导性培训"), ("2", "技能培训")],
};

/// 驻村工作队: a member's place in the team (the report's 第一书记 often also leads the team).
pub const TEAM_ROLE: CodeList = CodeList {
    key: "team_role",
    title: "队内职务",
    entries: &[
        ("1", "第一书记"),
        ("2", "第一书记兼工作队长"),
        ("3", "工作队长"),
        ("4", "工作队员"),
    ],
};

/// 脱贫退出程序的步骤, in the order they must be done.
pub const EXIT_STEP: CodeList = CodeList {
    key: "exit_step",
    title: "程序步骤",
    entries: &[
        ("1", "入户调查"),
        ("2", "村两委商议"),
        ("3", "村评议公示"),
        ("4", "乡镇核查公告"),
        ("5", "县审定销号"),
    ],
};

/// What an event of the exit procedure does.
pub const EXIT_ACTION: CodeList = CodeList {
    key: "exit_action",
    title: "操作",
    entries: &[("1", "办理"), ("2", "退回"), ("3", "返贫")],
};

/// The items of the 贫困村退出 checklist a county checks (blank = all of them).
pub const VILLAGE_CHECK: CodeList = CodeList {
    key: "village_check",
    title: "贫困村退出核对项目",
    entries: &[
        ("road", "通硬化路"),
        ("power", "通动力电"),
        ("broadcast", "广播电视覆盖率达标"),
        ("broadband", "通宽带"),
        ("water", "安全饮水"),
        ("clinic", "有标准化卫生室"),
        ("venue", "有综合性公共服务场所"),
        ("school", "义务教育就学有保障"),
    ],
};

pub const VOTE_TYPE: CodeList = CodeList {
    key: "vote_type",
    title: "表决方式",
    entries: &[("1", "口头表决"), ("2", "举手表决"), ("3", "无记名投票")],
};

pub const STEP_RESULT: CodeList = CodeList {
    key: "step_result",
    title: "结果",
    entries: &[("1", "同意"), ("2", "不同意")],
};

/// 减员原因: why a person left the household, as the 建档立卡 system's 人口自然变更 lists them.
/// A member who left keeps the row (with its 减员日期) so past years keep their family size.
pub const MEMBER_LEAVE_REASON: CodeList = CodeList {
    key: "member_leave_reason",
    title: "减员原因",
    entries: &[
        ("1", "死亡"),
        ("2", "婚出"),
        ("3", "服刑"),
        ("4", "户口迁出"),
        ("5", "参军"),
        ("9", "其他"),
    ],
};

/// 增员原因: why a person joined an already filed household.
pub const MEMBER_JOIN_REASON: CodeList = CodeList {
    key: "member_join_reason",
    title: "增员原因",
    entries: &[("1", "新生儿"), ("2", "婚入"), ("9", "其他")],
};

/// Every value list, for the UI and for import header matching.
pub const ALL: &[&CodeList] = &[
    &IDENTIFY_STANDARD,
    &HOUSEHOLD_ATTRIBUTE,
    &POVERTY_STATUS,
    &POVERTY_CAUSE,
    &ROAD_TYPE,
    &DANGER_LEVEL,
    &FUEL_TYPE,
    &SEX,
    &RELATION,
    &ETHNICITY,
    &POLITICAL_STATUS,
    &EDUCATION,
    &SCHOOLING,
    &HEALTH,
    &DISABILITY_CATEGORY,
    &DISABILITY_GRADE,
    &LABOR_SKILL,
    &WORK_STATUS,
    &UNIT_LEVEL,
    &MEASURE_PATH,
    &MEASURE_STATUS,
    &PAYMENT_CHANNEL,
    &RELOCATION_STAGE,
    &ATTACHMENT_TARGET,
    &ATTACHMENT_KIND,
    &TEAM_ROLE,
    &TRAINING_KIND,
    &EXIT_STEP,
    &EXIT_ACTION,
    &VOTE_TYPE,
    &STEP_RESULT,
    &VILLAGE_CHECK,
    &MEMBER_LEAVE_REASON,
    &MEMBER_JOIN_REASON,
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_unique_within_each_list() {
        for list in ALL {
            let mut codes: Vec<_> = list.entries.iter().map(|(c, _)| *c).collect();
            codes.sort_unstable();
            codes.dedup();
            assert_eq!(
                codes.len(),
                list.entries.len(),
                "duplicate code in {}",
                list.key
            );
        }
    }

    #[test]
    fn ethnicity_lists_56_groups_and_other() {
        assert_eq!(ETHNICITY.entries.len(), 57);
        assert_eq!(ETHNICITY.code_of("基诺族"), Some("56"));
    }

    #[test]
    fn labels_map_back_to_codes() {
        assert_eq!(POVERTY_CAUSE.code_of(" 因病 "), Some("01"));
        assert_eq!(RELATION.label(RELATION_HEAD), Some("户主"));
        assert_eq!(SEX.code_of("不明"), None);
    }
}
