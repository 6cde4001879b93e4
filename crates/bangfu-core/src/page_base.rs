//! The base a household page was loaded from, and saving a page against it.
//!
//! A page stays open for minutes (or comes back as a draft days later) while hub pulls and USB
//! imports land under it. Its base records, for every row the page showed, the heads of every
//! field as loaded. A save then writes only what the person changed relative to the base,
//! naming the loaded heads as predecessors (an edit that arrived meanwhile on the same field
//! becomes a review item), leaves alone what the person did not change, and deletes only rows
//! the page had, naming only the heads it saw.

use std::collections::{BTreeMap, HashMap, HashSet};

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::filing::{FilingOutcome, HouseholdFile};
use crate::model::{DELETED_FIELD, Entity, FieldValue, Household};
use crate::store::{Change, Store, StoreError, put_change};
use crate::sync::OpId;
use crate::validate::{Issue, Severity};

/// One row as a page loaded it: the heads of each of its fields (`deleted` included).
#[derive(ts_rs::TS, Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct RowBase {
    pub id: Uuid,
    pub heads: BTreeMap<String, Vec<OpId>>,
}

/// What a household page was loaded from: the household row and every child row it had.
#[derive(ts_rs::TS, Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct PageBase {
    pub household: RowBase,
    pub members: Vec<RowBase>,
    pub incomes: Vec<RowBase>,
    pub pairings: Vec<RowBase>,
    pub measures: Vec<RowBase>,
    pub visits: Vec<RowBase>,
}

impl PageBase {
    /// The same base with each list of child rows in id order, for comparing two bases.
    fn sorted(&self) -> PageBase {
        let sort = |rows: &[RowBase]| {
            let mut rows = rows.to_vec();
            rows.sort_by_key(|r| r.id);
            rows
        };
        PageBase {
            household: self.household.clone(),
            members: sort(&self.members),
            incomes: sort(&self.incomes),
            pairings: sort(&self.pairings),
            measures: sort(&self.measures),
            visits: sort(&self.visits),
        }
    }
}

/// A household page with the base it was loaded from. A page without a base (a new household,
/// an old caller) is saved as a fresh page.
#[derive(ts_rs::TS, Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct LoadedPage {
    pub page: HouseholdFile,
    #[serde(default)]
    pub base: Option<PageBase>,
}

/// A base naming an op this copy does not hold: the page came from another data file, or its
/// base was edited by hand.
fn unknown_base() -> StoreError {
    StoreError::Invalid(vec![Issue::error(
        "",
        "page_base.unknown",
        "本页所依据的数据在这份数据文件里找不到（页面可能来自另一份数据文件），\
                  请重新打开本户，把修改再填一次后保存"
            .into(),
    )])
}

/// A base of another household than the page's.
fn other_household() -> StoreError {
    StoreError::Invalid(vec![Issue::error(
        "",
        "page_base.other_household",
        "本页的底稿属于另一户，不能用来保存这一户，请重新打开本户后再保存".into(),
    )])
}

/// Empty text is stored as no value, as the write path stores it.
fn normalize(value: FieldValue) -> FieldValue {
    match value {
        FieldValue::Text(t) if t.is_empty() => FieldValue::Null,
        other => other,
    }
}

impl Store {
    /// A household page with its base, read in one snapshot so that the base's heads are
    /// exactly those of the values shown (a pull on another connection cannot land between).
    pub fn load_household_page(&self, id: Uuid) -> Result<LoadedPage, StoreError> {
        let snapshot = self.conn().unchecked_transaction()?;
        let mut page = self.load_household_file(id)?;
        let base = self.base_of(&page)?;
        snapshot.rollback()?;
        self.mask_page_ids(&mut page)?;
        Ok(LoadedPage {
            page,
            base: Some(base),
        })
    }

    /// A household's file as the window shows it to whoever is signed in (see
    /// [`Store::page_shows_full_ids`]).
    pub fn load_household_file_shown(&self, id: Uuid) -> Result<HouseholdFile, StoreError> {
        let mut page = self.load_household_file(id)?;
        self.mask_page_ids(&mut page)?;
        Ok(page)
    }

    /// Masks the page's 证件号码 and 银行卡号 unless the signed-in person sees them on the page.
    fn mask_page_ids(&self, page: &mut HouseholdFile) -> Result<(), StoreError> {
        if !self.page_shows_full_ids()? {
            page.household.bank_account =
                crate::access::mask_id_number(&page.household.bank_account);
            for member in &mut page.members {
                member.id_number = crate::access::mask_id_number(&member.id_number);
            }
        }
        Ok(())
    }

    fn base_of(&self, page: &HouseholdFile) -> Result<PageBase, StoreError> {
        let row = |id: Uuid| -> Result<RowBase, StoreError> {
            Ok(RowBase {
                id,
                heads: self.row_heads_by_field(id)?,
            })
        };
        fn rows<E: Entity>(
            records: &[E],
            row: &impl Fn(Uuid) -> Result<RowBase, StoreError>,
        ) -> Result<Vec<RowBase>, StoreError> {
            records.iter().map(|r| row(r.id())).collect()
        }
        Ok(PageBase {
            household: row(page.household.id)?,
            members: rows(&page.members, &row)?,
            incomes: rows(&page.incomes, &row)?,
            pairings: rows(&page.pairings, &row)?,
            measures: rows(&page.measures, &row)?,
            visits: rows(&page.visits, &row)?,
        })
    }

    /// Whether the household changed since the page's base was loaded: a field of one of its
    /// rows written, a child row added or deleted, or the household itself deleted.
    pub fn household_changed_since(&self, base: &PageBase) -> Result<bool, StoreError> {
        let snapshot = self.conn().unchecked_transaction()?;
        let now = match self.load_household_file(base.household.id) {
            Ok(page) => self.base_of(&page)?,
            Err(StoreError::NotFound { .. }) => return Ok(true),
            Err(e) => return Err(e),
        };
        snapshot.rollback()?;
        Ok(now.sorted() != base.sorted())
    }

    /// A checked edit of some of a household's own fields (what `bangfu edit` does): its page
    /// is loaded, the fields are set on it, and it is saved through the page's own save, so it
    /// refuses exactly what the household page refuses and writes only what changed.
    pub fn edit_household_fields(
        &mut self,
        id: Uuid,
        fields: &[(&str, FieldValue)],
    ) -> Result<FilingOutcome, StoreError> {
        let mut loaded = self.load_household_page(id)?;
        let mut values: BTreeMap<&str, FieldValue> =
            loaded.page.household.to_fields().into_iter().collect();
        for (name, value) in fields {
            let spec = Household::TABLE
                .field(name)
                .ok_or_else(|| StoreError::UnknownField {
                    table: Household::TABLE.label(),
                    field: (*name).to_owned(),
                })?;
            values.insert(spec.name, value.clone());
        }
        loaded.page.household = Household::from_fields(id, &mut |name| {
            values.get(name).cloned().unwrap_or(FieldValue::Null)
        })
        .map_err(|field| StoreError::WrongType {
            table: Household::TABLE.label(),
            field: Household::TABLE
                .field(field)
                .map_or(field, |spec| spec.label),
        })?;
        self.file_household_page(&loaded.page, loaded.base.as_ref())
    }

    /// Saves a household page against the base it was loaded from (see the module's text);
    /// without a base, as a fresh page ([`Store::file_household`]). The page is checked whole
    /// exactly as a fresh page is.
    pub fn file_household_page(
        &mut self,
        file: &HouseholdFile,
        base: Option<&PageBase>,
    ) -> Result<FilingOutcome, StoreError> {
        let Some(base) = base.filter(|b| !b.household.heads.is_empty()) else {
            return self.file_household(file);
        };
        if base.household.id != file.household.id {
            return Err(other_household());
        }
        self.require_move_if_moved(&file.household)?;
        let mut issues = self.check_household_file(file)?;
        // A 户编号 shared with another household that arrived by a merge (two laptops moved
        // households into one village at once and each took the lowest free number) is not
        // what this person typed: it stays a finding to fix, but it no longer blocks saving the
        // rest of the page. Typing a code in use is still refused.
        let loaded_code = base
            .household
            .heads
            .get("code")
            .map_or(&[][..], Vec::as_slice);
        if self.loaded_value(loaded_code)?
            == normalize(FieldValue::Text(file.household.code.clone()))
        {
            for issue in &mut issues {
                if issue.rule == Self::CODE_USED_TWICE {
                    issue.severity = Severity::Warning;
                }
            }
        }
        if issues.iter().any(|i| i.severity == Severity::Error) {
            return Err(StoreError::Invalid(issues));
        }
        let mut changes = Vec::new();
        self.put_over::<Household>(&file.household, &base.household, &mut changes)?;
        self.children_over(&file.members, &base.members, &mut changes)?;
        self.children_over(&file.incomes, &base.incomes, &mut changes)?;
        self.children_over(&file.pairings, &base.pairings, &mut changes)?;
        self.children_over(&file.measures, &base.measures, &mut changes)?;
        self.children_over(&file.visits, &base.visits, &mut changes)?;
        let outcome = self.write_unchecked(&changes)?;
        Ok(FilingOutcome {
            ops: outcome.ops,
            warnings: issues
                .into_iter()
                .filter(|i| i.severity == Severity::Warning)
                .collect(),
        })
    }

    /// The rule of a 户编号 used by another household of the village (`filing::code_used_twice`).
    const CODE_USED_TWICE: &str = "household_code.duplicate";

    /// The value a field showed when loaded: its loaded head with the greatest clock.
    fn loaded_value(&self, heads: &[OpId]) -> Result<FieldValue, StoreError> {
        if heads.is_empty() {
            return Ok(FieldValue::Null);
        }
        let ops = self.op_clock_values(heads)?.ok_or_else(unknown_base)?;
        Ok(ops
            .into_iter()
            .max_by(|a, b| (a.1, a.0.origin).cmp(&(b.1, b.0.origin)))
            .map_or(FieldValue::Null, |(_, _, value)| normalize(value)))
    }

    /// The fields of a loaded row the person changed, written over the loaded heads.
    pub(crate) fn put_over<E: Entity>(
        &self,
        record: &E,
        base: &RowBase,
        changes: &mut Vec<Change>,
    ) -> Result<(), StoreError> {
        let mut fields = Vec::new();
        for (name, value) in record.to_fields() {
            let loaded = base.heads.get(name).cloned().unwrap_or_default();
            let value = normalize(value);
            if value == self.loaded_value(&loaded)? {
                continue;
            }
            fields.push((name, value, loaded));
        }
        if !fields.is_empty() {
            changes.push(Change::PutOver {
                table: E::TABLE,
                id: record.id(),
                fields,
            });
        }
        Ok(())
    }

    /// Child rows of the page: loaded ones written over their base, new ones put whole, and
    /// loaded ones the person removed deleted naming only the heads loaded. Rows added
    /// elsewhere since the load are not the page's and are left alone.
    fn children_over<E: Entity>(
        &self,
        wanted: &[E],
        loaded: &[RowBase],
        changes: &mut Vec<Change>,
    ) -> Result<(), StoreError> {
        let by_id: HashMap<Uuid, &RowBase> = loaded.iter().map(|r| (r.id, r)).collect();
        let kept: HashSet<Uuid> = wanted.iter().map(Entity::id).collect();
        for record in wanted {
            match by_id.get(&record.id()) {
                Some(base) => self.put_over(record, base, changes)?,
                None => changes.push(put_change(record)),
            }
        }
        for base in loaded.iter().filter(|r| !kept.contains(&r.id)) {
            let of = |deleted: bool| -> Vec<OpId> {
                base.heads
                    .iter()
                    .filter(|(field, _)| (field.as_str() == DELETED_FIELD) == deleted)
                    .flat_map(|(_, ids)| ids.iter().copied())
                    .collect()
            };
            changes.push(Change::DeleteSeen {
                table: E::TABLE,
                id: base.id,
                preds: of(true),
                seen: of(false),
            });
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Member, Table};
    use crate::store::OpenOptions;

    fn store(dir: &tempfile::TempDir) -> Store {
        let options = OpenOptions {
            identity_dir: Some(dir.path().join("r")),
            fixed_clock_ms: Some(1_750_000_000_000),
            ..Default::default()
        };
        Store::open(dir.path().join("a.sqlite"), &options).unwrap()
    }

    /// A household of one, filed whole (no ID numbers, so no checks of them).
    fn filed(s: &mut Store) -> HouseholdFile {
        let household = Household {
            id: Uuid::now_v7(),
            code: "530826103201001".into(),
            identify_standard: "1".into(),
            attribute: "1".into(),
            poverty_status: "1".into(),
            main_cause: "01".into(),
            phone: "13800000000".into(),
            ..Default::default()
        };
        let file = HouseholdFile {
            members: vec![Member {
                id: Uuid::now_v7(),
                household_id: Some(household.id),
                name: "王大山".into(),
                relation: "01".into(),
                ..Default::default()
            }],
            household,
            ..Default::default()
        };
        s.file_household(&file).unwrap();
        file
    }

    #[test]
    fn a_base_names_every_field_head_and_changed_since_sees_a_child_added() {
        let dir = tempfile::tempdir().unwrap();
        let mut s = store(&dir);
        let file = filed(&mut s);
        let loaded = s.load_household_page(file.household.id).unwrap();
        assert_eq!(loaded.page, file);
        let base = loaded.base.unwrap();
        assert_eq!(base.household.heads["phone"].len(), 1);
        assert_eq!(base.members.len(), 1);
        assert!(!s.household_changed_since(&base).unwrap());

        let mut child = file.members[0].clone();
        child.id = Uuid::now_v7();
        child.name = "王小虎".into();
        child.relation = "03".into();
        s.put(&child).unwrap();
        assert!(s.household_changed_since(&base).unwrap());
    }

    #[test]
    fn put_over_a_value_that_arrived_meanwhile_writes_nothing_and_an_unseen_one_conflicts() {
        let dir = tempfile::tempdir().unwrap();
        let mut s = store(&dir);
        let file = filed(&mut s);
        let base = s.load_household_page(file.household.id).unwrap().base;
        let phone = |v: &str| Change::Put {
            table: Table::Household,
            id: file.household.id,
            fields: vec![("phone", FieldValue::Text(v.into()))],
        };
        // Meanwhile the same value was typed elsewhere: nothing to write, no conflict.
        s.write(&[phone("13900000001")]).unwrap();
        let mut page = file.clone();
        page.household.phone = "13900000001".into();
        let out = s.file_household_page(&page, base.as_ref()).unwrap();
        assert_eq!(out.ops, 0);
        // Another value: written over the loaded head only, so both stay heads.
        page.household.phone = "13700000002".into();
        let out = s.file_household_page(&page, base.as_ref()).unwrap();
        assert_eq!(out.ops, 1);
        let heads = s.row_heads_by_field(file.household.id).unwrap();
        assert_eq!(heads["phone"].len(), 2, "{heads:?}");
    }

    #[test]
    fn a_base_naming_an_op_this_copy_lacks_is_refused_in_chinese() {
        let dir = tempfile::tempdir().unwrap();
        let mut s = store(&dir);
        let file = filed(&mut s);
        let mut base = s
            .load_household_page(file.household.id)
            .unwrap()
            .base
            .unwrap();
        for ids in base.household.heads.values_mut() {
            for id in ids {
                id.origin = Uuid::now_v7();
            }
        }
        let mut page = file.clone();
        page.household.phone = "13700000002".into();
        let before = s.op_count().unwrap();
        let err = s.file_household_page(&page, Some(&base)).unwrap_err();
        assert!(
            crate::UserFacing::message_zh(&err).contains("重新打开本户"),
            "{err}"
        );
        assert_eq!(s.op_count().unwrap(), before);
    }
}
