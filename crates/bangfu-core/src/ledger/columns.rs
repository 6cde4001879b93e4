//! Ledger columns: how each exported column is typed in Excel, and the column names people use
//! in the rolls they already keep, for matching an imported header.

use chrono::NaiveDate;
use rusqlite::types::ValueRef;

use crate::model::codes::CodeList;
use crate::model::input::to_half_width;
use crate::model::{FieldKind, FieldSpec, Table};

/// What a column's cells are in Excel. Identifiers are `Text` so Excel never turns an
/// 18-digit ID into 1.23E+17; amounts and areas are numbers so sums and filters work.
#[derive(Debug, Clone, Copy)]
pub enum CellKind {
    Text,
    /// A stored code shown as its label; several codes are joined with 、.
    Code(&'static CodeList),
    /// 是 / 否.
    Bool,
    /// Areas, distances: two decimals.
    Number,
    /// 元, with thousands separators.
    Amount,
    /// Years, counts.
    Int,
    Date,
}

#[derive(Debug, Clone, Copy)]
pub struct Column {
    pub header: &'static str,
    pub kind: CellKind,
    /// In Excel character units.
    pub width: f64,
    /// The total row sums this column.
    pub total: bool,
}

impl Column {
    pub const fn new(header: &'static str, kind: CellKind, width: f64) -> Column {
        Column {
            header,
            kind,
            width,
            total: false,
        }
    }

    pub const fn summed(self) -> Column {
        Column {
            total: true,
            ..self
        }
    }

    /// The column of an entity field, typed and sized from the catalog.
    pub fn of_field(spec: &'static FieldSpec) -> Column {
        let kind = match (spec.kind, spec.codes) {
            (FieldKind::Text, Some(list)) => CellKind::Code(list),
            (FieldKind::Text | FieldKind::Ref, None) => CellKind::Text,
            (FieldKind::Int, _) => CellKind::Int,
            (FieldKind::Real, _) => CellKind::Number,
            (FieldKind::Bool, _) => CellKind::Bool,
            (FieldKind::Date, _) => CellKind::Date,
            (FieldKind::Ref, Some(_)) => CellKind::Text,
        };
        Column::new(spec.label, kind, width_of(spec))
    }
}

/// Wide enough for the usual content and for the header, which wraps past that.
fn width_of(spec: &FieldSpec) -> f64 {
    match spec.name {
        "id_number" => 21.0,
        "code" => 18.0,
        "bank_account" => 22.0,
        "phone" => 13.0,
        "address" | "description" | "target" | "development_intent" | "remark" => 28.0,
        "found" | "done" => 36.0,
        "name" => 9.0,
        _ => match spec.kind {
            FieldKind::Date => 11.0,
            FieldKind::Bool | FieldKind::Int => 8.0,
            FieldKind::Real => 10.0,
            _ => 10.0 + if spec.multi { 6.0 } else { 0.0 },
        },
    }
}

/// One cell of an exported ledger row.
#[derive(Debug, Clone, PartialEq)]
pub enum Cell {
    Empty,
    Text(String),
    Number(f64),
    Date(NaiveDate),
}

/// Turns a stored value into the cell of its column.
pub fn decode(kind: CellKind, v: ValueRef<'_>) -> Cell {
    match (kind, v) {
        (_, ValueRef::Null) => Cell::Empty,
        (CellKind::Number | CellKind::Amount | CellKind::Int, ValueRef::Integer(i)) => {
            Cell::Number(i as f64)
        }
        (CellKind::Number | CellKind::Amount | CellKind::Int, ValueRef::Real(r)) => Cell::Number(r),
        (CellKind::Bool, ValueRef::Integer(i)) => {
            Cell::Text(if i != 0 { "是" } else { "否" }.into())
        }
        (CellKind::Date, ValueRef::Text(t)) => std::str::from_utf8(t)
            .ok()
            .and_then(|s| NaiveDate::parse_from_str(s, "%Y-%m-%d").ok())
            .map_or_else(
                || Cell::Text(String::from_utf8_lossy(t).into_owned()),
                Cell::Date,
            ),
        (CellKind::Code(list), ValueRef::Text(t)) => {
            let text = String::from_utf8_lossy(t);
            let labels: Vec<&str> = text
                .split(',')
                .filter(|c| !c.is_empty())
                .map(|c| list.label(c).unwrap_or(c))
                .collect();
            Cell::Text(labels.join("、"))
        }
        (_, ValueRef::Text(t)) => Cell::Text(String::from_utf8_lossy(t).into_owned()),
        (_, ValueRef::Integer(i)) => Cell::Text(i.to_string()),
        (_, ValueRef::Real(r)) => Cell::Number(r),
        (_, ValueRef::Blob(_)) => Cell::Empty,
    }
}

/// Where an imported column goes.
#[derive(Debug, Clone, Copy)]
pub enum Target {
    Household(&'static FieldSpec),
    Member(&'static FieldSpec),
    VillageName,
    Township,
    /// 户主姓名 on every member row: checked against the household's 户主.
    HeadName,
    /// 家庭人口: checked against the number of member rows.
    FamilySize,
    /// 序号 and the like: known, deliberately not imported.
    Ignored,
}

impl PartialEq for Target {
    fn eq(&self, other: &Target) -> bool {
        match (self, other) {
            (Target::Household(a), Target::Household(b))
            | (Target::Member(a), Target::Member(b)) => a.name == b.name,
            _ => std::mem::discriminant(self) == std::mem::discriminant(other),
        }
    }
}

impl Target {
    /// The form's name for the target, for previews.
    pub fn label(self) -> &'static str {
        match self {
            Target::Household(spec) | Target::Member(spec) => spec.label,
            Target::VillageName => "村名",
            Target::Township => "乡镇",
            Target::HeadName => "户主姓名",
            Target::FamilySize => "家庭人口",
            Target::Ignored => "（不导入）",
        }
    }
}

/// Column names seen in county and township rolls, by the field they fill.
const SYNONYMS: &[(&str, &[&str])] = &[
    (
        "member.id_number",
        &[
            "身份证号",
            "身份证号码",
            "公民身份号码",
            "居民身份证号码",
            "身份证",
            "证件号",
            "证件号码(身份证号)",
        ],
    ),
    ("member.name", &["成员姓名", "家庭成员姓名", "人员姓名"]),
    ("member.relation", &["与户主的关系", "关系", "家庭关系"]),
    ("member.education", &["学历"]),
    ("member.health", &["健康状态", "身体状况"]),
    ("member.labor_skill", &["劳动能力", "劳动力状况"]),
    ("member.schooling", &["在校状况", "在校情况"]),
    ("household.code", &["户号", "户码", "贫困户编号", "户编码"]),
    ("household.main_cause", &["致贫原因", "主要致贫原因(单选)"]),
    ("household.other_causes", &["次要致贫原因"]),
    ("household.attribute", &["贫困户类型", "户属性", "贫困属性"]),
    ("household.identify_standard", &["识别标准(国家/省/市)"]),
    (
        "household.filing_date",
        &[
            "识别时间",
            "识别日期",
            "建档时间",
            "建档立卡时间",
            "纳入时间",
        ],
    ),
    (
        "household.phone",
        &["电话", "手机号", "手机号码", "联系方式", "联系电话(户主)"],
    ),
    (
        "household.bank_account",
        &[
            "银行账号",
            "银行帐号",
            "一卡通账号",
            "惠农一卡通账号",
            "卡号",
        ],
    ),
    ("household.bank_name", &["开户行", "开户银行名称"]),
    ("household.address", &["家庭住址", "地址", "家庭地址"]),
    ("household.group_name", &["组", "小组", "组别", "村民组"]),
    (
        "household.plan_exit_year",
        &["计划脱贫年份", "预计脱贫年度"],
    ),
    (
        "village.name",
        &["村名", "行政村", "村", "所在村", "村委会"],
    ),
    (
        "village.township",
        &["乡镇", "乡(镇)", "乡镇名称", "乡镇(街道)"],
    ),
    ("head_name", &["户主姓名", "户主", "户主名"]),
    (
        "family_size",
        &["家庭人口", "家庭人口数", "人口数", "家庭人数"],
    ),
    ("ignored", &["序号", "编号", "行号"]),
];

/// Header text as people type it: spaces, line breaks, required-field stars and full-width
/// brackets vary from roll to roll and never change what a column means.
pub fn normalize_header(text: &str) -> String {
    to_half_width(text)
        .chars()
        .filter(|c| !c.is_whitespace() && *c != '*' && *c != '★')
        .collect()
}

fn target_of(key: &str) -> Option<Target> {
    let (table, field) = key.split_once('.').unwrap_or((key, ""));
    match table {
        "member" => Table::Member.field(field).map(Target::Member),
        "household" => Table::Household.field(field).map(Target::Household),
        "village" if field == "name" => Some(Target::VillageName),
        "village" => Some(Target::Township),
        "head_name" => Some(Target::HeadName),
        "family_size" => Some(Target::FamilySize),
        "ignored" => Some(Target::Ignored),
        _ => None,
    }
}

/// The target of a header cell, or `None` for a column this version does not import.
pub fn match_header(text: &str) -> Option<Target> {
    let wanted = normalize_header(text);
    if wanted.is_empty() {
        return None;
    }
    let by_label = |wanted: &str| {
        // The household's phone comes first: on a roll, 联系电话 is the household's number.
        let household = Table::Household
            .fields()
            .iter()
            .filter(|f| f.kind != FieldKind::Ref)
            .find(|f| normalize_header(f.label) == wanted)
            .map(Target::Household);
        household.or_else(|| {
            Table::Member
                .fields()
                .iter()
                .filter(|f| f.kind != FieldKind::Ref)
                .find(|f| normalize_header(f.label) == wanted)
                .map(Target::Member)
        })
    };
    let by_synonym = |wanted: &str| {
        SYNONYMS
            .iter()
            .find(|(_, names)| names.iter().any(|n| normalize_header(n) == wanted))
            .and_then(|(key, _)| target_of(key))
    };
    by_label(&wanted)
        .or_else(|| by_synonym(&wanted))
        .or_else(|| {
            // "耕地面积(亩)" written as "耕地面积", or "身份证号(18位)": try without the bracket.
            let bare: String = match wanted.split_once('(') {
                Some((head, _)) => head.to_owned(),
                None => return None,
            };
            by_label(&bare).or_else(|| by_synonym(&bare))
        })
        .or_else(|| {
            Table::Household
                .fields()
                .iter()
                .chain(Table::Member.fields())
                .filter(|f| f.kind != FieldKind::Ref)
                .find(|f| {
                    normalize_header(f.label)
                        .split_once('(')
                        .is_some_and(|(head, _)| head == wanted)
                })
                .map(|f| {
                    if Table::Household
                        .field(f.name)
                        .is_some_and(|h| h.label == f.label)
                    {
                        Target::Household(f)
                    } else {
                        Target::Member(f)
                    }
                })
        })
}

/// Value spellings of the rolls that are not the form's labels. The second element is the
/// form's label; reading one is reported so the person sees what was understood.
const VALUE_ALIASES: &[(&str, &str)] = &[
    ("本人", "户主"),
    ("户主本人", "户主"),
    ("妻", "配偶"),
    ("妻子", "配偶"),
    ("丈夫", "配偶"),
    ("夫", "配偶"),
    ("儿子", "之子"),
    ("长子", "之子"),
    ("次子", "之子"),
    ("三子", "之子"),
    ("女儿", "之女"),
    ("长女", "之女"),
    ("次女", "之女"),
    ("三女", "之女"),
    ("儿媳", "之儿媳"),
    ("儿媳妇", "之儿媳"),
    ("孙子", "之孙子"),
    ("孙女", "之孙女"),
    ("父亲", "之父"),
    ("母亲", "之母"),
    ("男性", "男"),
    ("女性", "女"),
    ("其他", "其它"),
    ("其它", "其他"),
    ("因病致贫", "因病"),
    ("因残致贫", "因残"),
    ("因学致贫", "因学"),
    ("因灾致贫", "因灾"),
    ("缺乏技术", "缺技术"),
    ("缺少技术", "缺技术"),
    ("缺乏资金", "缺资金"),
    ("缺少资金", "缺资金"),
    ("缺乏劳力", "缺劳力"),
    ("缺少劳力", "缺劳力"),
    ("缺劳动力", "缺劳力"),
    ("缺少劳动力", "缺劳力"),
    ("缺乏劳动力", "缺劳力"),
    ("缺少土地", "缺土地"),
    ("缺乏土地", "缺土地"),
    ("交通落后", "交通条件落后"),
    ("交通不便", "交通条件落后"),
    ("发展动力不足", "自身发展动力不足"),
    ("内生动力不足", "自身发展动力不足"),
    ("五保户", "特困供养贫困户"),
    ("五保贫困户", "特困供养贫困户"),
    ("低保户", "低保贫困户"),
    ("一般户", "一般贫困户"),
];

/// How a value-list cell was understood.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CodeMatch {
    /// The label or code itself, or a lossless variant ("汉" for 汉族).
    Exact(&'static str),
    /// A known other spelling, read as the form's label.
    Alias {
        code: &'static str,
        label: &'static str,
    },
    Unknown,
}

/// Finds the code of one typed value of a list.
pub fn match_code(list: &CodeList, typed: &str) -> CodeMatch {
    let typed = to_half_width(typed);
    let typed = typed.trim();
    if let Some(code) = list.code_of(typed) {
        return CodeMatch::Exact(code);
    }
    for variant in [format!("{typed}族"), format!("之{typed}")] {
        if let Some(code) = list.code_of(&variant) {
            return CodeMatch::Exact(code);
        }
    }
    let generic = typed
        .strip_suffix("致贫")
        .map(str::to_owned)
        .into_iter()
        .chain(
            ["缺乏", "缺少"]
                .iter()
                .filter_map(|p| typed.strip_prefix(p).map(|rest| format!("缺{rest}"))),
        );
    let aliased = VALUE_ALIASES
        .iter()
        .filter(|(alias, _)| *alias == typed)
        .map(|(_, label)| (*label).to_owned());
    for candidate in aliased.chain(generic) {
        if let Some(code) = list.code_of(&candidate) {
            return CodeMatch::Alias {
                code,
                label: list.label(code).unwrap_or(""),
            };
        }
    }
    CodeMatch::Unknown
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::codes;

    #[test]
    fn headers_people_use_find_their_field() {
        let cases: &[(&str, &str)] = &[
            ("证件号码", "证件号码"),
            ("身份证号", "证件号码"),
            ("公民身份号码", "证件号码"),
            (" 身份证号码 ", "证件号码"),
            ("*姓名", "姓名"),
            ("与户主\n关系", "与户主关系"),
            ("耕地面积（亩）", "耕地面积(亩)"),
            ("耕地面积", "耕地面积(亩)"),
            ("致贫原因", "主要致贫原因"),
            ("户号", "户编号"),
            ("联系电话", "联系电话"),
            ("户主姓名", "户主姓名"),
            ("序号", "（不导入）"),
            ("行政村", "村名"),
        ];
        for (header, label) in cases {
            let got = match_header(header).map(Target::label);
            assert_eq!(got, Some(*label), "{header:?}");
        }
        assert_eq!(match_header("备注2"), None);
        assert_eq!(match_header(""), None);
        assert!(matches!(
            match_header("联系电话"),
            Some(Target::Household(_))
        ));
    }

    #[test]
    fn values_in_other_spellings_are_read_and_said() {
        let cases: &[(&CodeList, &str, CodeMatch)] = &[
            (&codes::POVERTY_CAUSE, "因病", CodeMatch::Exact("01")),
            (&codes::POVERTY_CAUSE, "０１", CodeMatch::Exact("01")),
            (
                &codes::POVERTY_CAUSE,
                "因病致贫",
                CodeMatch::Alias {
                    code: "01",
                    label: "因病",
                },
            ),
            (
                &codes::POVERTY_CAUSE,
                "缺乏资金",
                CodeMatch::Alias {
                    code: "09",
                    label: "缺资金",
                },
            ),
            (
                &codes::POVERTY_CAUSE,
                "其他",
                CodeMatch::Alias {
                    code: "99",
                    label: "其它",
                },
            ),
            (&codes::POVERTY_CAUSE, "因穷", CodeMatch::Unknown),
            (&codes::ETHNICITY, "汉", CodeMatch::Exact("01")),
            (&codes::RELATION, "子", CodeMatch::Exact("03")),
            (
                &codes::RELATION,
                "妻子",
                CodeMatch::Alias {
                    code: "02",
                    label: "配偶",
                },
            ),
        ];
        for (list, typed, want) in cases {
            assert_eq!(&match_code(list, typed), want, "{typed}");
        }
    }
}
