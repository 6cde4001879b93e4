//! The entities of the filing forms (建档立卡), their value lists and field catalog.

pub mod catalog;
mod checklist;
pub mod codes;
pub mod derived;
mod entity;
pub mod input;
mod value;

use chrono::NaiveDate;
use uuid::Uuid;

pub use checklist::{ChecklistEntry, ChecklistItem, VILLAGE_CHECKLIST};
use entity::entity;
pub use entity::{DELETED_FIELD, Entity, FieldSpec, Table};
pub use value::{FieldKind, FieldType, FieldValue};

entity! {
    /// 行政村: the unit a work team files, with its 12-digit 统计用区划代码.
    Village in Table::Village;
    code: String => "村代码";
    name: String => "村名";
    township: String => "乡镇";
    county: String => "县(市、区)";
    province: String => "省";
    rural_population: Option<i64> => "农村人口";
    hardened_road: Option<bool> => "通硬化路";
    power_grid: Option<bool> => "通动力电";
    broadcast_coverage: Option<f64> => "广播电视覆盖率(%)";
    broadband: Option<bool> => "通宽带";
    safe_water: Option<bool> => "安全饮水";
    standard_clinic: Option<bool> => "有标准化卫生室";
    public_venue: Option<bool> => "有综合性公共服务场所";
    school_access: Option<bool> => "义务教育就学有保障";
    /// 是否贫困村: a 建档立卡贫困村 (its exit is checked); 退出年度 once it has exited.
    poor_village: Option<bool> => "是否贫困村";
    exit_year: Option<i64> => "退出年度";
    /// For each checklist item: the day it was met (达标日期) and the evidence (佐证材料).
    road_date: Option<NaiveDate> => "通硬化路达标日期";
    road_evidence: String => "通硬化路佐证材料";
    power_date: Option<NaiveDate> => "通动力电达标日期";
    power_evidence: String => "通动力电佐证材料";
    broadcast_date: Option<NaiveDate> => "广播电视覆盖达标日期";
    broadcast_evidence: String => "广播电视覆盖佐证材料";
    broadband_date: Option<NaiveDate> => "通宽带达标日期";
    broadband_evidence: String => "通宽带佐证材料";
    water_date: Option<NaiveDate> => "安全饮水达标日期";
    water_evidence: String => "安全饮水佐证材料";
    clinic_date: Option<NaiveDate> => "有标准化卫生室达标日期";
    clinic_evidence: String => "有标准化卫生室佐证材料";
    venue_date: Option<NaiveDate> => "有综合性公共服务场所达标日期";
    venue_evidence: String => "有综合性公共服务场所佐证材料";
    school_date: Option<NaiveDate> => "义务教育就学有保障达标日期";
    school_evidence: String => "义务教育就学有保障佐证材料";
}

entity! {
    /// 贫困户: one filed household and its living conditions.
    Household in Table::Household;
    village_id: Option<Uuid> => "所属村";
    code: String => "户编号";
    group_name: String => "村民小组";
    address: String => "住址";
    identify_standard: String => "识别标准", codes = codes::IDENTIFY_STANDARD;
    /// 建档日期: the day the household was identified and filed (识别年度 is its year); a year's
    /// 贫困发生率 counts it from that year on (`report::year_status`).
    filing_date: Option<NaiveDate> => "建档日期";
    attribute: String => "贫困户属性", codes = codes::HOUSEHOLD_ATTRIBUTE;
    poverty_status: String => "脱贫状态", codes = codes::POVERTY_STATUS;
    main_cause: String => "主要致贫原因", codes = codes::POVERTY_CAUSE;
    other_causes: String => "其他致贫原因", codes = codes::POVERTY_CAUSE, multi = true;
    arable_area: Option<f64> => "耕地面积(亩)";
    forest_area: Option<f64> => "林地面积(亩)";
    returned_farmland_area: Option<f64> => "退耕还林面积(亩)";
    fruit_area: Option<f64> => "林果面积(亩)";
    pasture_area: Option<f64> => "牧草地面积(亩)";
    water_area: Option<f64> => "水面面积(亩)";
    road_distance_km: Option<f64> => "与村主干路距离(公里)";
    road_type: String => "入户路类型", codes = codes::ROAD_TYPE;
    house_area: Option<f64> => "住房面积(m²)";
    dangerous_house: Option<bool> => "是否危房";
    danger_level: String => "危房级别", codes = codes::DANGER_LEVEL;
    living_power: Option<bool> => "是否通生活用电";
    production_power: Option<bool> => "是否通生产用电";
    broadcast_tv: Option<bool> => "是否通广播电视";
    water_difficult: Option<bool> => "饮水是否困难";
    water_safe: Option<bool> => "饮水是否安全";
    fuel_type: String => "主要燃料类型", codes = codes::FUEL_TYPE;
    sanitary_toilet: Option<bool> => "有无卫生厕所";
    cooperative: Option<bool> => "是否加入农民专业合作社";
    phone: String => "联系电话";
    bank_name: String => "开户银行";
    bank_account: String => "银行卡号";
    plan_exit_year: Option<i64> => "计划脱贫年度";
    development_intent: String => "发展意向";
    remark: String => "备注";
}

entity! {
    /// 家庭成员: one person of a filed household.
    Member in Table::Member;
    household_id: Option<Uuid> => "所属户";
    name: String => "姓名";
    sex: String => "性别", codes = codes::SEX;
    id_number: String => "证件号码";
    relation: String => "与户主关系", codes = codes::RELATION;
    ethnicity: String => "民族", codes = codes::ETHNICITY;
    political_status: String => "政治面貌", codes = codes::POLITICAL_STATUS;
    education: String => "文化程度", codes = codes::EDUCATION;
    schooling: String => "在校生状况", codes = codes::SCHOOLING;
    health: String => "健康状况", codes = codes::HEALTH, multi = true;
    disability_category: String => "残疾类别", codes = codes::DISABILITY_CATEGORY;
    disability_grade: String => "残疾等级", codes = codes::DISABILITY_GRADE;
    labor_skill: String => "劳动技能", codes = codes::LABOR_SKILL;
    work_status: String => "务工状况", codes = codes::WORK_STATUS;
    work_months: Option<i64> => "务工时间(月)";
    medical_insurance: Option<bool> => "参加城乡居民基本医疗保险";
    serious_illness_insurance: Option<bool> => "参加大病保险";
    pension_insurance: Option<bool> => "参加城乡居民基本养老保险";
    dibao: Option<bool> => "是否享受低保";
    active_military: Option<bool> => "是否现役军人";
    phone: String => "联系电话";
    /// 增员: when and why a person joined a household already filed; empty for a member filed
    /// with the household (present from the start).
    join_date: Option<NaiveDate> => "增员日期";
    join_reason: String => "增员原因", codes = codes::MEMBER_JOIN_REASON;
    /// 减员: when and why a person left. The row stays, so past years count the person
    /// (`derived::present_in_year`); only a member typed by mistake is deleted.
    leave_date: Option<NaiveDate> => "减员日期";
    leave_reason: String => "减员原因", codes = codes::MEMBER_LEAVE_REASON;
}

entity! {
    /// 收入: one household's income for one year, in 元.
    Income in Table::Income;
    household_id: Option<Uuid> => "所属户";
    year: Option<i64> => "年度";
    wage: Option<f64> => "工资性收入";
    business: Option<f64> => "生产经营性收入";
    dividend: Option<f64> => "资产收益分红收入";
    property_other: Option<f64> => "其他财产性收入";
    family_planning: Option<f64> => "计划生育金";
    dibao_allowance: Option<f64> => "低保金";
    tekun_allowance: Option<f64> => "特困供养金(五保金)";
    pension_income: Option<f64> => "养老保险金";
    eco_compensation: Option<f64> => "生态补偿金";
    other_transfer: Option<f64> => "其他转移性收入";
    business_expense: Option<f64> => "生产经营性支出";
}

entity! {
    /// 帮扶责任人: a cadre who helps households, possibly in several villages.
    Helper in Table::Helper;
    name: String => "姓名";
    sex: String => "性别", codes = codes::SEX;
    unit: String => "帮扶单位";
    unit_level: String => "单位隶属", codes = codes::UNIT_LEVEL;
    title: String => "职务";
    phone: String => "联系电话";
}

entity! {
    /// 结对帮扶: a cadre assigned to a household from a start date; a change of cadre ends it.
    Pairing in Table::Pairing;
    household_id: Option<Uuid> => "所属户";
    helper_id: Option<Uuid> => "帮扶责任人";
    start_date: Option<NaiveDate> => "开始日期";
    end_date: Option<NaiveDate> => "结束日期";
}

entity! {
    /// 帮扶措施: one help measure for a household in a year.
    Measure in Table::Measure;
    household_id: Option<Uuid> => "所属户";
    year: Option<i64> => "年度";
    path: String => "帮扶措施类别", codes = codes::MEASURE_PATH;
    description: String => "措施内容";
    target: String => "帮扶目标";
    amount: Option<f64> => "金额(元)";
    funding_source: String => "资金来源";
    status: String => "落实情况", codes = codes::MEASURE_STATUS;
    /// The policy of the catalogue the measure carries out; empty for a free-text measure.
    policy_id: Option<Uuid> => "政策";
    /// The member the measure benefits (a student, a patient); empty: the whole household.
    member_id: Option<Uuid> => "受益成员";
    amount_due: Option<f64> => "应发金额(元)";
    /// 培训: a training's kind (引导性培训 / 技能培训), its days and the certificate obtained;
    /// the attendee is `member_id`. Empty for any other measure.
    training_kind: String => "培训类别", codes = codes::TRAINING_KIND;
    training_days: Option<i64> => "培训天数";
    certificate: String => "培训证书";
}

entity! {
    /// 走访记录: one visit of a cadre to a household.
    Visit in Table::Visit;
    household_id: Option<Uuid> => "所属户";
    helper_id: Option<Uuid> => "走访人";
    visit_date: Option<NaiveDate> => "走访日期";
    found: String => "了解情况";
    done: String => "帮扶落实";
}

entity! {
    /// 脱贫退出程序: one event of a household's exit procedure (a step done, a step sent back,
    /// a return to poverty), kept for ever as the archive trail. Written only by `exit::procedure`.
    ExitStep in Table::ExitStep;
    household_id: Option<Uuid> => "所属户";
    seq: Option<i64> => "顺序号";
    round: Option<i64> => "轮次";
    action: String => "操作", codes = codes::EXIT_ACTION;
    step: String => "程序步骤", codes = codes::EXIT_STEP;
    step_date: Option<NaiveDate> => "日期";
    people: String => "参加人员";
    signatures: String => "签字";
    household_signed: Option<bool> => "贫困户签字认可";
    food_secure: Option<bool> => "不愁吃";
    clothing_secure: Option<bool> => "不愁穿";
    vote_type: String => "表决方式", codes = codes::VOTE_TYPE;
    vote_result: String => "结果", codes = codes::STEP_RESULT;
    work_team_present: Option<bool> => "驻村工作队参加";
    notice_start: Option<NaiveDate> => "公示开始日期";
    notice_end: Option<NaiveDate> => "公示结束日期";
    objections: String => "异议情况";
    objection_handling: String => "异议处理结果";
    reason: String => "原因";
    notes: String => "备注";
    /// 村评议公示: the 民主评议 of 党员 and 村民 that proposed the list.
    review_date: Option<NaiveDate> => "民主评议日期";
    review_attendance: Option<i64> => "参加评议人数";
    review_agreed: Option<i64> => "同意人数";
}

entity! {
    /// 脱贫标准: the county's configuration for one year and province ("" = 全国, for every
    /// province without its own row). Replicated like any record so every copy of the county
    /// judges by the same numbers; the row id derives from (province, year), so two copies
    /// setting the same year write the same row. Written only by `exit::standards`.
    Standard in Table::Standard;
    year: Option<i64> => "年度";
    province: String => "省";
    income_line: Option<f64> => "贫困线(元/人·年)";
    school_age_from: Option<i64> => "义务教育起始年龄";
    school_age_to: Option<i64> => "义务教育截止年龄";
    check_safe_water: Option<bool> => "检查安全饮水";
    notice_days: Option<i64> => "公示天数";
    incidence_limit: Option<f64> => "贫困发生率上限(%)";
    broadcast_min: Option<f64> => "广播电视覆盖率下限(%)";
    village_checklist: String => "贫困村退出核对项目", codes = codes::VILLAGE_CHECK, multi = true;
    source: String => "依据";
    check_pension: Option<bool> => "检查养老保险";
    pension_age_from: Option<i64> => "养老保险参保起始年龄";
}

entity! {
    /// 扶贫政策: one policy of the county's yearly catalogue: who qualifies (the rule over the
    /// filed data), how much, how it is split, and its 七个一批 path. Replicated like the
    /// standards; the row id derives from (year, code). Written only by `policy::catalogue`.
    Policy in Table::Policy;
    year: Option<i64> => "年度";
    code: String => "政策代码";
    name: String => "政策名称";
    path: String => "帮扶措施类别", codes = codes::MEASURE_PATH;
    amount: Option<f64> => "补助标准(元)";
    cap: Option<f64> => "年度封顶(元)";
    once: Option<bool> => "一次性";
    rule: String => "享受条件";
    parts: String => "资金分配";
    in_force: Option<bool> => "执行";
    source: String => "依据";
}

entity! {
    /// 发放记录: one payment of a measure to its household or member.
    Payment in Table::Payment;
    household_id: Option<Uuid> => "所属户";
    measure_id: Option<Uuid> => "帮扶措施";
    pay_date: Option<NaiveDate> => "发放日期";
    amount: Option<f64> => "发放金额(元)";
    channel: String => "发放渠道", codes = codes::PAYMENT_CHANNEL;
    note: String => "备注";
}

entity! {
    /// 易地扶贫搬迁进度: a stage a relocated household's new house reached at its 安置点, dated;
    /// with the loan taken then, if any. One row per stage, only ever added.
    Relocation in Table::Relocation;
    household_id: Option<Uuid> => "所属户";
    site: String => "安置点";
    stage: String => "建设进度", codes = codes::RELOCATION_STAGE;
    stage_date: Option<NaiveDate> => "日期";
    loan: Option<f64> => "贷款金额(元)";
    note: String => "备注";
    /// The 12-digit 村代码 of the village the 安置点 lies in, when the stage named it (入住);
    /// empty otherwise. While the household is filed in another village its move there stays
    /// offered (`policy::relocation::household_relocation`).
    site_village: String => "安置点所在村";
}

entity! {
    /// 档案: a photo or scan (签字表, 公示照片, 会议记录 …) attached to one exit step, visit or
    /// measure of a household. The row names the file by the SHA-256 of its bytes; the bytes
    /// are kept once per copy in the local `blob` table and travel beside the ops (`archive`).
    Attachment in Table::Attachment;
    household_id: Option<Uuid> => "所属户";
    target_table: String => "附于", codes = codes::ATTACHMENT_TARGET;
    target_id: Option<Uuid> => "所附记录";
    kind: String => "材料类别", codes = codes::ATTACHMENT_KIND;
    caption: String => "说明";
    file_name: String => "文件名";
    media_type: String => "文件类型";
    size: Option<i64> => "大小(字节)";
    sha256: String => "文件指纹";
}

entity! {
    /// 驻村工作队员: one person of a village's resident work team (第一书记, 队长, 队员), sent
    /// by a unit (派出单位) for a time (驻村起止日期). Belongs to the village, so it reaches that
    /// village's copies only (`village_ref_field`). A member who leaves keeps the row with the
    /// 离村日期, so the team of any past day can be named.
    TeamMember in Table::TeamMember;
    village_id: Option<Uuid> => "所属村";
    name: String => "姓名";
    sex: String => "性别", codes = codes::SEX;
    role: String => "队内职务", codes = codes::TEAM_ROLE;
    unit: String => "派出单位";
    unit_level: String => "单位隶属", codes = codes::UNIT_LEVEL;
    post: String => "职务";
    phone: String => "联系电话";
    start_date: Option<NaiveDate> => "驻村日期";
    end_date: Option<NaiveDate> => "离村日期";
    note: String => "备注";
}

entity! {
    /// 县级设置: one setting of the county's that is not a year's 脱贫标准 (so far the first
    /// year of 建档立卡, before which a 建档日期 is questioned). Replicated like the standards so
    /// every copy of the county judges by the same setting; the row id derives from the
    /// setting's key, so two copies setting it write the same row. Written only by
    /// `county_settings`.
    CountySetting in Table::CountySetting;
    key: String => "设置项";
    value: String => "设定值";
    source: String => "依据";
}

/// The table's field that names the village a row belongs to directly, which decides its
/// scope (a household's village, a work team member's village).
pub fn village_ref_field(table: Table) -> Option<&'static str> {
    match table {
        Table::Household | Table::TeamMember => Some("village_id"),
        _ => None,
    }
}

/// The table's field that names the household a row belongs to, which decides its scope.
pub fn household_ref_field(table: Table) -> Option<&'static str> {
    match table {
        Table::Member
        | Table::Income
        | Table::Pairing
        | Table::Measure
        | Table::Visit
        | Table::ExitStep
        | Table::Payment
        | Table::Relocation
        | Table::Attachment => Some("household_id"),
        Table::Village
        | Table::Household
        | Table::Helper
        | Table::Standard
        | Table::Policy
        | Table::TeamMember
        | Table::CountySetting => None,
    }
}

/// A row id every copy derives alike from what names the row (a year's 脱贫标准, a policy, a
/// county setting, an exit step): the first 16 bytes of a SHA-256 over `parts` in order, so two
/// copies writing "the same" record meet on one row (field conflicts, never two rows).
pub fn key_id(parts: &[&[u8]]) -> uuid::Uuid {
    use sha2::{Digest, Sha256};
    let mut hasher = Sha256::new();
    for part in parts {
        hasher.update(part);
    }
    let digest = hasher.finalize();
    let mut bytes = [0u8; 16];
    bytes.copy_from_slice(&digest[..16]);
    uuid::Builder::from_custom_bytes(bytes).into_uuid()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_household_round_trips_through_its_fields() {
        let h = Household {
            id: Uuid::now_v7(),
            code: "530826103201001".into(),
            main_cause: "01".into(),
            arable_area: Some(3.5),
            dangerous_house: Some(false),
            plan_exit_year: Some(2019),
            ..Default::default()
        };
        let fields: std::collections::HashMap<_, _> = h.to_fields().into_iter().collect();
        let back = Household::from_fields(h.id, &mut |name| {
            fields.get(name).cloned().unwrap_or_default()
        });
        assert_eq!(back, Ok(h));
    }

    #[test]
    fn every_table_names_its_fields_once() {
        for table in Table::ALL {
            let mut names: Vec<_> = table.fields().iter().map(|f| f.name).collect();
            names.sort_unstable();
            names.dedup();
            assert_eq!(names.len(), table.fields().len(), "{table:?}");
            assert!(table.field(DELETED_FIELD).is_none());
        }
    }
}
