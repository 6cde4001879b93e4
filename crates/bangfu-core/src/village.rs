//! 村情: a village's own record as its page and `bangfu village` show and set it: 农村人口,
//! 贫困村 status and 退出年度, each 贫困村退出 checklist item with its 达标日期 and 佐证材料.
//!
//! Every write here is a replicated write (ops through the store), so a figure set at the
//! township reaches the village laptops by changeset file or hub like a household edit, and
//! two copies setting the same field meet as an ordinary conflict. Who may: [`Permission::
//! SetVillageData`] (第一书记/队长, 乡镇管理员). What is refused, in Chinese and with nothing
//! written: the record's own checks (`validate::check_village`) and a 农村人口 below the
//! people filed in the village.
//!
//! 佐证材料 is text (a document's name, number and where the papers are kept): the archive's
//! attachments belong to a household's records and travel in its scope, and a village-wide
//! scope for files is not built.

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::access::Permission;
use crate::model::{ChecklistItem, Entity, FieldValue, VILLAGE_CHECKLIST, Village};
use crate::page_base::RowBase;
use crate::store::{Change, Filter, Store, StoreError};
use crate::validate::{self, Issue, Severity};

/// A village's fields only this page sets; its code, name and place come with its filing.
pub(crate) const IDENTITY_FIELDS: [&str; 5] = ["code", "name", "township", "county", "province"];

/// One village on the 村情 list.
#[derive(ts_rs::TS, Debug, Clone, PartialEq, Serialize)]
pub struct VillageRow {
    pub id: Uuid,
    pub code: String,
    pub name: String,
    pub township: String,
    pub rural_population: Option<i64>,
    pub poor_village: Option<bool>,
    pub exit_year: Option<i64>,
    /// Live filed households of the village.
    pub filed_households: i64,
    /// Their current members (not 减员).
    pub filed_people: i64,
    /// Checklist items marked met (是, or a coverage filled) and items filled at all.
    pub items_met: i64,
    pub items_filled: i64,
}

/// The 村情 page: the village as loaded, the base its save is written over, and what the form
/// needs to check 农村人口 and lay out the checklist.
#[derive(ts_rs::TS, Debug, Clone, PartialEq, Serialize)]
pub struct VillageSheet {
    pub village: Village,
    pub base: RowBase,
    pub filed_households: i64,
    pub filed_people: i64,
    pub checklist: Vec<ChecklistItem>,
    /// Whether the person signed in may save it.
    pub editable: bool,
}

/// A 村情 page saved: the village as edited and the base it was loaded with.
#[derive(ts_rs::TS, Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct VillageEdit {
    pub village: Village,
    pub base: RowBase,
}

/// Live filed households of a village and their current members.
pub fn filed_counts(store: &Store, village: Uuid) -> Result<(i64, i64), StoreError> {
    Ok(store.conn().query_row(
        "SELECT count(*), coalesce(sum((SELECT count(*) FROM member m
             WHERE m.household_id = h.id AND m.deleted = 0 AND m.leave_date IS NULL)), 0)
         FROM household h WHERE h.village_id = ?1 AND h.deleted = 0",
        [village.as_bytes().as_slice()],
        |r| Ok((r.get(0)?, r.get(1)?)),
    )?)
}

/// Every village of the data file, by code.
pub fn list_villages(store: &Store) -> Result<Vec<VillageRow>, StoreError> {
    let mut rows = Vec::new();
    let mut villages = store.read::<Village>(Filter::All)?;
    villages.sort_by(|a, b| a.code.cmp(&b.code));
    for v in villages {
        let (filed_households, filed_people) = filed_counts(store, v.id)?;
        let entries: Vec<_> = VILLAGE_CHECKLIST
            .iter()
            .map(|item| v.checklist_entry(item))
            .collect();
        rows.push(VillageRow {
            id: v.id,
            items_met: entries
                .iter()
                .filter(|e| e.met == Some(true) || e.rate.is_some())
                .count() as i64,
            items_filled: entries
                .iter()
                .filter(|e| e.met.is_some() || e.rate.is_some())
                .count() as i64,
            code: v.code,
            name: v.name,
            township: v.township,
            rural_population: v.rural_population,
            poor_village: v.poor_village,
            exit_year: v.exit_year,
            filed_households,
            filed_people,
        });
    }
    Ok(rows)
}

/// The village whose 12-digit code is `code`.
pub fn village_by_code(store: &Store, code: &str) -> Result<Village, StoreError> {
    let code = code.trim();
    store
        .read::<Village>(Filter::All)?
        .into_iter()
        .find(|v| v.code == code)
        .ok_or_else(|| {
            StoreError::Invalid(vec![Issue::error(
                "code",
                "village.unknown",
                format!("这份数据文件里没有村代码为 {code} 的村，请核对 12 位村代码"),
            )])
        })
}

/// The 村情 page of a village.
pub fn village_sheet(store: &Store, village: Uuid) -> Result<VillageSheet, StoreError> {
    let v: Village = store.get(village)?;
    let (filed_households, filed_people) = filed_counts(store, village)?;
    let editable = match store.require(Permission::SetVillageData) {
        Ok(()) => true,
        Err(StoreError::Access(_)) => false,
        Err(other) => return Err(other),
    };
    Ok(VillageSheet {
        base: RowBase {
            id: village,
            heads: store.row_heads_by_field(village)?,
        },
        village: v,
        filed_households,
        filed_people,
        checklist: VILLAGE_CHECKLIST.to_vec(),
        editable,
    })
}

/// Saves a 村情 page: only the fields the person changed since the load, written over the
/// heads loaded (a value another copy brought meanwhile is kept or becomes a conflict).
pub fn save_village_sheet(
    store: &mut Store,
    edit: &VillageEdit,
) -> Result<VillageSheet, StoreError> {
    store.require(Permission::SetVillageData)?;
    let id = edit.village.id;
    if edit.base.id != id {
        return Err(StoreError::Invalid(vec![Issue::error(
            "",
            "village.base_mismatch",
            "页面所依据的村和要保存的村不是同一个，请重新打开村情页后再填".into(),
        )]));
    }
    let current: Village = store.get(id)?;
    let mut edited = edit.village.clone();
    keep_identity(&current, &mut edited);
    let mut changes = Vec::new();
    store.put_over(&edited, &edit.base, &mut changes)?;
    check(store, &edited, &changed_fields(&changes))?;
    if !changes.is_empty() {
        store.write_unchecked(&changes)?;
    }
    village_sheet(store, id)
}

/// Sets fields of a village (`bangfu village set`): each as typed, checked as the page checks.
pub fn set_village_fields(
    store: &mut Store,
    village: Uuid,
    fields: Vec<(&'static str, FieldValue)>,
) -> Result<VillageSheet, StoreError> {
    store.require(Permission::SetVillageData)?;
    let current: Village = store.get(village)?;
    if let Some((name, _)) = fields.iter().find(|(n, _)| IDENTITY_FIELDS.contains(n)) {
        let label = Village::FIELDS
            .iter()
            .find(|f| f.name == *name)
            .map_or(*name, |f| f.label);
        return Err(StoreError::Invalid(vec![Issue::error(
            name,
            "village.identity",
            format!("{label}是村的建档信息，不在村情中修改"),
        )]));
    }
    let mut values: std::collections::BTreeMap<&str, FieldValue> =
        current.to_fields().into_iter().collect();
    for (name, value) in &fields {
        values.insert(name, value.clone());
    }
    let edited = Village::from_fields(village, &mut |name| {
        values.get(name).cloned().unwrap_or_default()
    })
    .map_err(|field| StoreError::WrongType {
        table: "村",
        field: Village::FIELDS
            .iter()
            .find(|f| f.name == field)
            .map_or(field, |f| f.label),
    })?;
    let touched: Vec<&str> = fields.iter().map(|(n, _)| *n).collect();
    check(store, &edited, &touched)?;
    store.write_unchecked(&[Change::Put {
        table: crate::model::Table::Village,
        id: village,
        fields,
    }])?;
    village_sheet(store, village)
}

/// The page never changes what files the village: its code, name and place.
fn keep_identity(current: &Village, edited: &mut Village) {
    edited.code = current.code.clone();
    edited.name = current.name.clone();
    edited.township = current.township.clone();
    edited.county = current.county.clone();
    edited.province = current.province.clone();
}

fn changed_fields(changes: &[Change]) -> Vec<&'static str> {
    changes
        .iter()
        .flat_map(|c| match c {
            Change::PutOver { fields, .. } => fields.iter().map(|(n, _, _)| *n).collect(),
            Change::Put { fields, .. } => fields.iter().map(|(n, _)| *n).collect(),
            _ => Vec::new(),
        })
        .collect()
}

/// The checks of a village as a save leaves it: its own (an error on a field the save does
/// not touch, brought by another copy, is left for the page to show), and 农村人口 not below
/// the people filed in the village.
fn check(store: &Store, v: &Village, touched: &[&str]) -> Result<(), StoreError> {
    let mut issues: Vec<Issue> = validate::check_village(v, store.today())
        .into_iter()
        .filter(|i| {
            i.severity == Severity::Error && (touched.contains(&i.field) || i.field.is_empty())
        })
        .collect();
    if touched.contains(&"rural_population")
        && let Some(issue) = rural_population_issue(store, v)?
    {
        issues.push(issue);
    }
    if issues.is_empty() {
        Ok(())
    } else {
        Err(StoreError::Invalid(issues))
    }
}

/// 农村人口 below the people filed in the village: the rural population includes them all.
pub(crate) fn rural_population_issue(
    store: &Store,
    v: &Village,
) -> Result<Option<Issue>, StoreError> {
    let Some(population) = v.rural_population else {
        return Ok(None);
    };
    let (households, people) = filed_counts(store, v.id)?;
    Ok((population < people).then(|| Issue::error("rural_population", "village.population_below_filed", format!(
            "农村人口 {population} 人少于本村已建档的 {people} 人（{households} 户）：农村人口包括全部建档立卡人口，请核对"
        ))))
}
