//! The ledgers (台帐) townships and counties ask for, exported to Excel straight from the
//! tables, one streamed query per ledger.

use std::collections::HashMap;
use std::path::Path;

use serde::{Deserialize, Serialize};

use super::LedgerError;
use super::columns::{Cell, CellKind, Column, decode};
use super::scope::Scope;
use super::sheet::LedgerSheet;
use crate::access::Permission;
use crate::model::codes;
use crate::model::{Entity, Household, Income, Measure, Member, Table};
use crate::report::quality::data_quality;
use crate::store::{AUDIT_LEDGER_FULL_IDS, Store, StoreError};
use crate::validate::Severity;

#[derive(ts_rs::TS, Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LedgerKind {
    /// 贫困户台帐: one row per household.
    Households,
    /// 家庭成员台帐: one row per member, with the household's columns.
    Members,
    /// 收入台帐: one row per household and year.
    Incomes,
    /// 帮扶责任人台帐: one row per pairing.
    Pairings,
    /// 帮扶措施台帐: one row per measure, amounts totalled.
    Measures,
    /// 走访记录台帐.
    Visits,
    /// 疑点数据清单: the data-quality list.
    Suspects,
    /// 教育资助台帐: the 教育支持 measures, each with its student, amount due and payments.
    Education,
    /// 易地搬迁台帐: the 易地扶贫搬迁 measures.
    Relocation,
    /// 培训台帐: the 转移就业 measures (trainings, jobs).
    Training,
    /// 产业扶持台帐: the 发展产业 measures (the "2355" in its payments).
    Industry,
    /// 医疗救助台帐: the 健康救助 measures.
    Medical,
}

/// A ledger as the 台账 page offers it.
#[derive(ts_rs::TS, Debug, Clone, Copy, PartialEq, Serialize)]
pub struct LedgerTitle {
    pub kind: LedgerKind,
    pub title: &'static str,
}

/// The ledgers in the order the county asks for them, with their titles: the seven of the
/// filed data, then the five of the policies (issue 17).
pub fn ledger_titles() -> Vec<LedgerTitle> {
    LedgerKind::ALL
        .into_iter()
        .map(|kind| LedgerTitle {
            kind,
            title: kind.title(),
        })
        .collect()
}

impl LedgerKind {
    pub const ALL: [LedgerKind; 12] = [
        LedgerKind::Households,
        LedgerKind::Members,
        LedgerKind::Incomes,
        LedgerKind::Pairings,
        LedgerKind::Measures,
        LedgerKind::Visits,
        LedgerKind::Suspects,
        LedgerKind::Education,
        LedgerKind::Relocation,
        LedgerKind::Training,
        LedgerKind::Industry,
        LedgerKind::Medical,
    ];

    pub fn title(self) -> &'static str {
        match self {
            LedgerKind::Households => "贫困户台帐",
            LedgerKind::Members => "家庭成员台帐",
            LedgerKind::Incomes => "收入台帐",
            LedgerKind::Pairings => "帮扶责任人台帐",
            LedgerKind::Measures => "帮扶措施台帐",
            LedgerKind::Visits => "走访记录台帐",
            LedgerKind::Suspects => "疑点数据清单",
            LedgerKind::Education => "教育资助台帐",
            LedgerKind::Relocation => "易地搬迁台帐",
            LedgerKind::Training => "培训台帐",
            LedgerKind::Industry => "产业扶持台帐",
            LedgerKind::Medical => "医疗救助台帐",
        }
    }

    /// The stable English key used on the command line and by the UI.
    pub fn key(self) -> &'static str {
        match self {
            LedgerKind::Households => "households",
            LedgerKind::Members => "members",
            LedgerKind::Incomes => "incomes",
            LedgerKind::Pairings => "pairings",
            LedgerKind::Measures => "measures",
            LedgerKind::Visits => "visits",
            LedgerKind::Suspects => "suspects",
            LedgerKind::Education => "education",
            LedgerKind::Relocation => "relocation",
            LedgerKind::Training => "training",
            LedgerKind::Industry => "industry",
            LedgerKind::Medical => "medical",
        }
    }

    /// The 七个一批 path (code of `measure_path`) of a policy ledger.
    fn policy_path(self) -> Option<&'static str> {
        match self {
            LedgerKind::Industry => Some("01"),
            LedgerKind::Relocation => Some("02"),
            LedgerKind::Training => Some("03"),
            LedgerKind::Education => Some("04"),
            LedgerKind::Medical => Some("06"),
            _ => None,
        }
    }

    /// Takes the key or the Chinese title.
    pub fn parse(text: &str) -> Option<LedgerKind> {
        let text = text.trim();
        LedgerKind::ALL
            .into_iter()
            .find(|k| k.key() == text || k.title() == text || k.title().replace('帐', "账") == text)
    }

    /// Whether the ledger's rows belong to a year (incomes, measures, visits), so that it can
    /// be exported for one work year.
    pub fn by_year(self) -> bool {
        matches!(
            self,
            LedgerKind::Incomes | LedgerKind::Measures | LedgerKind::Visits
        ) || self.policy_path().is_some()
    }

    /// What one row counts, for the total row.
    fn row_noun(self) -> &'static str {
        match self {
            LedgerKind::Households => "户",
            LedgerKind::Members => "人",
            LedgerKind::Suspects => "项",
            _ => "条",
        }
    }
}

#[derive(ts_rs::TS, Debug, Clone, Serialize)]
#[ts(rename = "LedgerExport")]
pub struct ExportSummary {
    pub kind: LedgerKind,
    pub title: String,
    pub rows: u64,
    pub path: String,
}

/// A ledger's columns and the queries that yield its cells in the same order. Ledgers of
/// records under a household (members, incomes, ...) read the households in order and each
/// household's records by its index: sorting a county's 400k wide rows in one ORDER BY cost
/// more than writing them.
pub(crate) struct Plan {
    pub columns: Vec<Column>,
    /// Households in ledger order; the last selected column is the household id.
    pub sql: String,
    /// Records of one household (bound as ?1), giving the columns after the household's.
    pub child_sql: Option<String>,
    /// How many of `columns` the household query gives.
    pub household_columns: usize,
    /// Only the records of this year (bound as ?2 of `child_sql`).
    pub year: Option<i32>,
}

const PLACE: [Column; 4] = [
    Column::new("乡镇", CellKind::Text, 10.0),
    Column::new("村名", CellKind::Text, 10.0),
    Column::new("户编号", CellKind::Text, 18.0),
    Column::new("户主姓名", CellKind::Text, 9.0),
];
const PLACE_SQL: &str = "v.township, v.name, h.code, s.head_name";
const HOUSEHOLDS_FROM: &str = "FROM household h
    LEFT JOIN village v ON v.id = h.village_id AND v.deleted = 0
    LEFT JOIN household_summary s ON s.household_id = h.id
    WHERE h.deleted = 0";

/// The columns of a policy ledger after the household's: one row per measure of the path, a
/// structured one with its beneficiary, amount due and what its payments brought.
const POLICY_COLUMNS: [Column; 11] = [
    Column::new("年度", CellKind::Int, 6.0),
    Column::new("受益成员", CellKind::Text, 9.0),
    Column::new("证件号码", CellKind::Text, 21.0),
    Column::new("在校生状况", CellKind::Code(&codes::SCHOOLING), 11.0),
    Column::new("措施内容", CellKind::Text, 36.0),
    Column::new("落实情况", CellKind::Code(&codes::MEASURE_STATUS), 8.0),
    Column::new("应发金额(元)", CellKind::Amount, 12.0).summed(),
    Column::new("已发金额(元)", CellKind::Amount, 12.0).summed(),
    Column::new("发放次数", CellKind::Int, 8.0),
    Column::new("最近发放日期", CellKind::Date, 11.0),
    Column::new("未发金额(元)", CellKind::Amount, 12.0).summed(),
];
const POLICY_SELECT: &str = "x.year, b.name, b.id_number, b.schooling, x.description, x.status, \
     coalesce(x.amount_due, x.amount), \
     (SELECT sum(p.amount) FROM payment p WHERE p.measure_id = x.id AND p.deleted = 0), \
     (SELECT count(*) FROM payment p WHERE p.measure_id = x.id AND p.deleted = 0), \
     (SELECT max(p.pay_date) FROM payment p WHERE p.measure_id = x.id AND p.deleted = 0), \
     max(coalesce(x.amount_due, x.amount, 0) - coalesce((SELECT sum(p.amount) FROM payment p \
         WHERE p.measure_id = x.id AND p.deleted = 0), 0), 0)";
/// The 易地搬迁 ledger's columns after the policy ledgers': the household's latest stage, and
/// the village of its 安置点 (name and 村代码; the code alone when this copy lacks the village;
/// 未填 for a household at 入住 whose stages name none, recorded before the village was asked).
const RELOCATION_COLUMNS: [Column; 5] = [
    Column::new("安置点", CellKind::Text, 16.0),
    Column::new("安置点所在村", CellKind::Text, 22.0),
    Column::new("建设进度", CellKind::Code(&codes::RELOCATION_STAGE), 9.0),
    Column::new("进度日期", CellKind::Date, 11.0),
    Column::new("贷款金额(元)", CellKind::Amount, 12.0),
];
const RELOCATION_SELECT: &str = "\
     (SELECT r.site FROM relocation r WHERE r.household_id = x.household_id AND r.deleted = 0 \
         ORDER BY r.stage DESC, r.stage_date DESC LIMIT 1), \
     coalesce((SELECT coalesce(v.name || '（' || r.site_village || '）', r.site_village) \
         FROM relocation r LEFT JOIN village v ON v.code = r.site_village AND v.deleted = 0 \
         WHERE r.household_id = x.household_id AND r.deleted = 0 \
             AND coalesce(r.site_village, '') <> '' \
         ORDER BY r.stage DESC, r.stage_date DESC LIMIT 1), \
         (SELECT '未填' WHERE EXISTS (SELECT 1 FROM relocation r \
             WHERE r.household_id = x.household_id AND r.deleted = 0 AND r.stage = '5'))), \
     (SELECT r.stage FROM relocation r WHERE r.household_id = x.household_id AND r.deleted = 0 \
         ORDER BY r.stage DESC, r.stage_date DESC LIMIT 1), \
     (SELECT r.stage_date FROM relocation r WHERE r.household_id = x.household_id \
         AND r.deleted = 0 ORDER BY r.stage DESC, r.stage_date DESC LIMIT 1), \
     (SELECT sum(r.loan) FROM relocation r WHERE r.household_id = x.household_id \
         AND r.deleted = 0)";
/// The 培训台帐's columns after the policy ledgers': the training's kind, days, certificate.
const TRAINING_COLUMNS: [Column; 3] = [
    Column::new("培训类别", CellKind::Code(&codes::TRAINING_KIND), 11.0),
    Column::new("培训天数", CellKind::Int, 8.0),
    Column::new("培训证书", CellKind::Text, 16.0),
];
const TRAINING_SELECT: &str = "x.training_kind, x.training_days, x.certificate";
const POLICY_FROM: &str = "measure x LEFT JOIN member b ON b.id = x.member_id AND b.deleted = 0";

/// The records under a household a ledger lists: (FROM of the child table with `alias`, the
/// alias, the child selects, the child's order, the condition of a year, a fixed condition of
/// the ledger or "").
type Child<'a> = (&'a str, &'a str, Vec<String>, &'a str, &'a str, &'a str);

/// The entity's own columns and `alias.field` selects, skipping references.
fn fields_of<E: Entity>(alias: &str, skip: &[&str]) -> (Vec<Column>, Vec<String>) {
    E::FIELDS
        .iter()
        .filter(|f| f.kind != crate::model::FieldKind::Ref && !skip.contains(&f.name))
        .map(|f| (Column::of_field(f), format!("{alias}.{}", f.name)))
        .unzip()
}

fn amounts(columns: &mut [Column]) {
    for c in columns {
        if matches!(c.kind, CellKind::Number) {
            c.kind = CellKind::Amount;
            *c = c.summed();
        }
    }
}

pub(crate) fn plan(kind: LedgerKind, scope: &Scope) -> Plan {
    plan_of_year(kind, scope, None)
}

/// The plan of a ledger; for a ledger [`LedgerKind::by_year`], only the records of `year`.
pub(crate) fn plan_of_year(kind: LedgerKind, scope: &Scope, year: Option<i32>) -> Plan {
    let year = year.filter(|_| kind.by_year());
    let (condition, _) = scope.condition();
    let mut columns = PLACE.to_vec();
    let mut select = vec![PLACE_SQL.to_owned()];
    let mut household_columns = 0;
    let child: Option<Child<'_>> = match kind {
        LedgerKind::Education
        | LedgerKind::Relocation
        | LedgerKind::Training
        | LedgerKind::Industry
        | LedgerKind::Medical => {
            household_columns = columns.len();
            columns.extend(POLICY_COLUMNS.iter().cloned());
            let mut selects = vec![POLICY_SELECT.to_owned()];
            // The 易地搬迁 ledger also shows where the new house stands.
            if kind == LedgerKind::Relocation {
                columns.extend(RELOCATION_COLUMNS.iter().cloned());
                selects.push(RELOCATION_SELECT.to_owned());
            }
            // The 培训台帐 also shows each training's kind, days and certificate.
            if kind == LedgerKind::Training {
                columns.extend(TRAINING_COLUMNS.iter().cloned());
                selects.push(TRAINING_SELECT.to_owned());
            }
            // The path is a fixed code of the kind, written into the fixed text.
            let path = match kind.policy_path() {
                Some("01") => "x.path = '01'",
                Some("02") => "x.path = '02'",
                Some("03") => "x.path = '03'",
                Some("06") => "x.path = '06'",
                _ => "x.path = '04'",
            };
            Some((
                POLICY_FROM,
                "x",
                selects,
                "x.year, x.rowid",
                "x.year = ?2",
                path,
            ))
        }
        LedgerKind::Households | LedgerKind::Suspects => {
            columns.push(Column::new(HEAD_ID_HEADER, CellKind::Text, 21.0));
            columns.push(Column::new("家庭人口", CellKind::Int, 8.0).summed());
            select.push("s.head_id_number, s.members".into());
            let (c, s) = fields_of::<Household>("h", &["code"]);
            columns.extend(c);
            select.extend(s);
            None
        }
        LedgerKind::Members => {
            for field in ["attribute", "poverty_status", "main_cause"] {
                if let Some(spec) = Table::Household.field(field) {
                    columns.push(Column::of_field(spec));
                    select.push(format!("h.{field}"));
                }
            }
            let (c, s) = fields_of::<Member>("m", &[]);
            household_columns = columns.len();
            columns.extend(c);
            Some(("member m", "m", s, "m.relation <> '01', m.rowid", "", ""))
        }
        LedgerKind::Incomes => {
            // The year's 家庭人口: the members of the income's year (`derived::present_in_year`),
            // so a member who left later still counts for the years before.
            // It is the first of the income row's own columns, where the year is known.
            let size = crate::model::derived::members_in_year_sql("i.household_id", "i.year");
            household_columns = columns.len();
            columns.push(Column::new("家庭人口", CellKind::Int, 8.0));
            let (mut c, mut s) = fields_of::<Income>("i", &[]);
            s.insert(0, size.clone());
            amounts(&mut c);
            columns.extend(c);
            // The computed lines of the income form, as in model::derived::income_summary.
            let transfer = "(coalesce(i.family_planning,0) + coalesce(i.dibao_allowance,0) \
                + coalesce(i.tekun_allowance,0) + coalesce(i.pension_income,0) \
                + coalesce(i.eco_compensation,0) + coalesce(i.other_transfer,0))";
            let total = format!(
                "(coalesce(i.wage,0) + coalesce(i.business,0) + coalesce(i.dividend,0) \
                 + coalesce(i.property_other,0) + {transfer})"
            );
            let net = format!("({total} - coalesce(i.business_expense,0))");
            for header in ["转移性收入", "总收入", "纯收入"] {
                columns.push(Column::new(header, CellKind::Amount, 12.0).summed());
            }
            columns.push(Column::new("人均纯收入", CellKind::Amount, 12.0));
            s.push(format!(
                "{transfer}, {total}, {net}, {net} * 1.0 / nullif({size}, 0)"
            ));
            Some(("income i", "i", s, "i.year, i.rowid", "i.year = ?2", ""))
        }
        LedgerKind::Pairings => {
            household_columns = columns.len();
            columns.extend([
                Column::new("帮扶责任人", CellKind::Text, 9.0),
                Column::new("性别", CellKind::Code(&codes::SEX), 6.0),
                Column::new("帮扶单位", CellKind::Text, 24.0),
                Column::new("单位隶属", CellKind::Code(&codes::UNIT_LEVEL), 9.0),
                Column::new("职务", CellKind::Text, 12.0),
                Column::new("联系电话", CellKind::Text, 13.0),
                Column::new("开始日期", CellKind::Date, 11.0),
                Column::new("结束日期", CellKind::Date, 11.0),
                Column::new("状态", CellKind::Text, 8.0),
            ]);
            Some((
                "pairing p LEFT JOIN helper e ON e.id = p.helper_id AND e.deleted = 0",
                "p",
                vec![
                    "e.name, e.sex, e.unit, e.unit_level, e.title, e.phone, p.start_date, \
                     p.end_date, CASE WHEN p.end_date IS NULL THEN '在帮' ELSE '已调整' END"
                        .into(),
                ],
                "p.start_date, p.rowid",
                "",
                "",
            ))
        }
        LedgerKind::Measures => {
            // A training's kind, days and certificate are the 培训台帐's columns.
            let (mut c, s) =
                fields_of::<Measure>("x", &["training_kind", "training_days", "certificate"]);
            amounts(&mut c);
            household_columns = columns.len();
            columns.extend(c);
            Some((
                "measure x",
                "x",
                s,
                "x.year, x.path, x.rowid",
                "x.year = ?2",
                "",
            ))
        }
        LedgerKind::Visits => {
            household_columns = columns.len();
            columns.extend([
                Column::new("走访日期", CellKind::Date, 11.0),
                Column::new("走访人", CellKind::Text, 9.0),
                Column::new("帮扶单位", CellKind::Text, 24.0),
                Column::new("了解情况", CellKind::Text, 36.0),
                Column::new("帮扶落实", CellKind::Text, 36.0),
            ]);
            Some((
                "visit t LEFT JOIN helper e ON e.id = t.helper_id AND e.deleted = 0",
                "t",
                vec!["t.visit_date, e.name, e.unit, t.found, t.done".into()],
                "t.visit_date, t.rowid",
                "t.visit_date BETWEEN ?2 || '-01-01' AND ?2 || '-12-31'",
                "",
            ))
        }
    };
    if child.is_none() {
        household_columns = columns.len();
    }
    let sql = format!(
        "SELECT {}, h.id {HOUSEHOLDS_FROM} AND {condition} ORDER BY v.township, v.code, h.code",
        select.join(", ")
    );
    let child_sql = child.map(|(from, alias, selects, order, of_year, fixed)| {
        let mut of_year = match year {
            Some(_) if !of_year.is_empty() => format!(" AND {of_year}"),
            _ => String::new(),
        };
        if !fixed.is_empty() {
            of_year.push_str(" AND ");
            of_year.push_str(fixed);
        }
        format!(
            "SELECT {} FROM {from} WHERE {alias}.household_id = ?1 AND {alias}.deleted = 0{of_year} \
             ORDER BY {order}",
            selects.join(", ")
        )
    });
    Plan {
        columns,
        sql,
        child_sql,
        household_columns,
        year,
    }
}

/// Runs a ledger's queries and hands each row's cells to `sink`, reusing one row buffer.
pub(crate) fn stream(
    store: &Store,
    plan: &Plan,
    scope: &Scope,
    sink: &mut dyn FnMut(&[Cell]) -> Result<(), LedgerError>,
) -> Result<(), LedgerError> {
    let (_, key) = scope.condition();
    let conn = store.conn();
    let mut stmt = conn.prepare(&plan.sql).map_err(StoreError::from)?;
    let mut child = match &plan.child_sql {
        Some(sql) => Some(conn.prepare(sql).map_err(StoreError::from)?),
        None => None,
    };
    let mut rows = match key {
        Some(k) => stmt.query([k]),
        None => stmt.query([]),
    }
    .map_err(StoreError::from)?;
    let (own, rest) = plan
        .columns
        .split_at(plan.household_columns.min(plan.columns.len()));
    let mut cells = Vec::with_capacity(plan.columns.len());
    while let Some(r) = rows.next().map_err(StoreError::from)? {
        cells.clear();
        for (i, c) in own.iter().enumerate() {
            cells.push(decode(c.kind, r.get_ref(i).map_err(StoreError::from)?));
        }
        let Some(child) = child.as_mut() else {
            sink(&cells)?;
            continue;
        };
        let id: Vec<u8> = r.get(own.len()).map_err(StoreError::from)?;
        let mut records = match plan.year {
            Some(year) => child.query(rusqlite::params![id, year.to_string()]),
            None => child.query(rusqlite::params![id]),
        }
        .map_err(StoreError::from)?;
        while let Some(c) = records.next().map_err(StoreError::from)? {
            cells.truncate(own.len());
            for (i, col) in rest.iter().enumerate() {
                cells.push(decode(col.kind, c.get_ref(i).map_err(StoreError::from)?));
            }
            sink(&cells)?;
        }
    }
    Ok(())
}

/// The title and the unit line of a ledger; a ledger of one year names it.
pub(crate) fn headings(
    store: &Store,
    kind: LedgerKind,
    scope: &Scope,
    year: Option<i32>,
) -> Result<(String, String), LedgerError> {
    let unit = scope.unit_name(store)?;
    let title = match year {
        Some(year) => format!("{unit}{year}年度{}", kind.title()),
        None => format!("{unit}{}", kind.title()),
    };
    let line = format!(
        "填报单位：{unit}        导出日期：{}",
        store.today().format("%Y年%m月%d日")
    );
    Ok((title, line))
}

/// Exports one ledger of a village, a township or the whole file to an .xlsx file, every
/// year's records.
pub fn export_ledger(
    store: &Store,
    kind: LedgerKind,
    scope: &Scope,
    out: &Path,
) -> Result<ExportSummary, LedgerError> {
    export_ledger_of_year(store, kind, scope, None, out)
}

/// Exports one ledger to an .xlsx file; a ledger of records by year (incomes, measures,
/// visits, [`LedgerKind::by_year`]) with only those of `year` when given, its title naming the
/// year. The other ledgers do not depend on a year and ignore it.
pub fn export_ledger_of_year(
    store: &Store,
    kind: LedgerKind,
    scope: &Scope,
    year: Option<i32>,
    out: &Path,
) -> Result<ExportSummary, LedgerError> {
    store.require(Permission::ExportLedgers)?;
    let year = year.filter(|_| kind.by_year());
    let (title, line) = headings(store, kind, scope, year)?;
    let full = store.sees_full_ids()?;
    let (rows, people) = if kind == LedgerKind::Suspects {
        let known_15 = crate::report::quality::known_15_ids(store)?;
        let mut guard = IdGuard::new(Vec::new(), true, full, known_15);
        let rows = export_suspects(store, scope, out, &title, &line, &mut guard)?;
        (rows, guard.people)
    } else {
        let plan = plan_of_year(kind, scope, year);
        let mut guard = IdGuard::new(
            id_columns(&plan.columns),
            false,
            full,
            std::collections::HashSet::new(),
        );
        let mut sheet =
            LedgerSheet::create(out, kind.title(), &title, &line, plan.columns.clone())?;
        stream(store, &plan, scope, &mut |cells| {
            sheet.row(&guard.pass(cells))
        })?;
        (sheet.finish(kind.row_noun())?, guard.people)
    };
    // Full numbers leave the laptop only with a line in the audit log: if it cannot be
    // written, the workbook is removed rather than left unrecorded.
    if full
        && people > 0
        && store.people_defined()?
        && let Err(error) = store.record_audit(AUDIT_LEDGER_FULL_IDS, &title, people)
    {
        let _ = std::fs::remove_file(out);
        return Err(error.into());
    }
    Ok(ExportSummary {
        kind,
        title,
        rows,
        path: out.display().to_string(),
    })
}

/// The columns of a ledger that hold 证件号码.
fn id_columns(columns: &[Column]) -> Vec<usize> {
    let member_id = Table::Member.field("id_number").map(|f| f.label);
    columns
        .iter()
        .enumerate()
        .filter(|(_, c)| c.header == HEAD_ID_HEADER || Some(c.header) == member_id)
        .map(|(i, _)| i)
        .collect()
}

const HEAD_ID_HEADER: &str = "户主证件号码";

/// Masks the 证件号码 of a ledger row for a role that does not see full numbers, and counts
/// the numbers the ledger carries (for the audit log when they go out in full).
struct IdGuard {
    columns: Vec<usize>,
    /// The data-quality list names numbers inside its messages.
    scan_text: bool,
    full: bool,
    people: u64,
    /// The members' 15-digit IDs, masked where a message names one.
    known_15: std::collections::HashSet<String>,
}

impl IdGuard {
    fn new(
        columns: Vec<usize>,
        scan_text: bool,
        full: bool,
        known_15: std::collections::HashSet<String>,
    ) -> IdGuard {
        IdGuard {
            columns,
            scan_text,
            full,
            people: 0,
            known_15,
        }
    }

    fn pass<'c>(&mut self, cells: &'c [Cell]) -> std::borrow::Cow<'c, [Cell]> {
        let mut masked: Option<Vec<Cell>> = None;
        for (i, cell) in cells.iter().enumerate() {
            let Cell::Text(text) = cell else { continue };
            let shown = if self.columns.contains(&i) {
                if text.trim().is_empty() {
                    continue;
                }
                self.people += 1;
                (!self.full).then(|| crate::access::mask_id_number(text))
            } else if self.scan_text {
                let (shown, found) = crate::access::mask_ids_in_text_known(text, &self.known_15);
                self.people += found;
                (found > 0 && !self.full).then_some(shown)
            } else {
                None
            };
            if let Some(shown) = shown {
                masked.get_or_insert_with(|| cells.to_vec())[i] = Cell::Text(shown);
            }
        }
        match masked {
            Some(cells) => std::borrow::Cow::Owned(cells),
            None => std::borrow::Cow::Borrowed(cells),
        }
    }
}

/// The data-quality list of the scope. It is built from whole household files (the same checks
/// as the form), so it is collected first, then written.
fn export_suspects(
    store: &Store,
    scope: &Scope,
    out: &Path,
    title: &str,
    line: &str,
    guard: &mut IdGuard,
) -> Result<u64, LedgerError> {
    let (condition, key) = scope.condition();
    let sql = format!(
        "SELECT h.id, v.township, v.name FROM household h
         LEFT JOIN village v ON v.id = h.village_id AND v.deleted = 0
         WHERE h.deleted = 0 AND {condition}"
    );
    let mut stmt = store.conn().prepare(&sql).map_err(StoreError::from)?;
    let map = |r: &rusqlite::Row<'_>| {
        let id: Vec<u8> = r.get(0)?;
        let place: (Option<String>, Option<String>) = (r.get(1)?, r.get(2)?);
        Ok((
            uuid::Uuid::from_slice(&id).unwrap_or_default().to_string(),
            place,
        ))
    };
    let places: HashMap<String, (Option<String>, Option<String>)> = match key {
        Some(k) => stmt.query_map([k], map),
        None => stmt.query_map([], map),
    }
    .map_err(StoreError::from)?
    .collect::<Result<_, _>>()
    .map_err(StoreError::from)?;
    let columns = vec![
        PLACE[0],
        PLACE[1],
        PLACE[2],
        PLACE[3],
        Column::new("类别", CellKind::Text, 8.0),
        Column::new("问题说明", CellKind::Text, 60.0),
        Column::new("规则", CellKind::Text, 28.0),
    ];
    let mut sheet = LedgerSheet::create(out, LedgerKind::Suspects.title(), title, line, columns)?;
    for item in data_quality(store)? {
        let Some((township, village)) = places.get(&item.household_id) else {
            continue;
        };
        let text = |s: &Option<String>| Cell::Text(s.clone().unwrap_or_default());
        sheet.row(
            &guard.pass(&[
                text(township),
                text(village),
                Cell::Text(item.household_code),
                Cell::Text(item.head_name),
                Cell::Text(
                    match item.severity {
                        Severity::Error => "错误",
                        Severity::Warning => "疑点",
                    }
                    .into(),
                ),
                Cell::Text(item.message),
                Cell::Text(item.rule.into()),
            ]),
        )?;
    }
    sheet.finish(LedgerKind::Suspects.row_noun())
}
