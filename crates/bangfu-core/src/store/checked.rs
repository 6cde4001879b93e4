//! The store's public write entry for code outside the core's own checked paths (the command
//! line, the hub's load generator, tests): every record a change leaves behind is checked the
//! way the household page checks its records before any op is written, and 脱贫退出 rows are
//! refused (only `exit::procedure` writes them).
//!
//! The core's checked entry points (the household page, `file_household`, imports, the exit
//! procedure, conflict resolution) validate first and then write through the crate-private
//! `write_unchecked`; nothing outside the core can reach that.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use uuid::Uuid;

use super::write::Change;
use super::{Store, StoreError, WriteOutcome, put_change};
use crate::county_settings::CountySettings;
use crate::model::{
    Attachment, DELETED_FIELD, Entity, FieldValue, Helper, Household, Income, Measure, Member,
    Pairing, Payment, Relocation, Standard, Table, TeamMember, Village, Visit,
};
use crate::validate::{self, Issue, Severity};

/// A record the store can check on its own: the per-record checks of the household page.
pub trait Checked: Entity {
    fn check(&self, on: &CheckedOn) -> Vec<Issue>;
}

/// What a record is judged by besides itself: the day, and the county's settings.
#[derive(Debug, Clone)]
pub struct CheckedOn {
    pub today: NaiveDate,
    pub county: CountySettings,
}

impl Checked for Standard {
    fn check(&self, _on: &CheckedOn) -> Vec<Issue> {
        validate::check_standard(self)
    }
}
impl Checked for Village {
    fn check(&self, on: &CheckedOn) -> Vec<Issue> {
        validate::check_village(self, on.today)
    }
}
impl Checked for Household {
    fn check(&self, on: &CheckedOn) -> Vec<Issue> {
        validate::check_household(self, on.today, &on.county)
    }
}
impl Checked for Member {
    fn check(&self, on: &CheckedOn) -> Vec<Issue> {
        validate::check_member(self, on.today)
    }
}
impl Checked for Income {
    fn check(&self, _on: &CheckedOn) -> Vec<Issue> {
        validate::check_income(self)
    }
}
impl Checked for Helper {
    fn check(&self, _on: &CheckedOn) -> Vec<Issue> {
        validate::check_helper(self)
    }
}
impl Checked for Pairing {
    fn check(&self, _on: &CheckedOn) -> Vec<Issue> {
        validate::check_pairing(self)
    }
}
impl Checked for Measure {
    fn check(&self, _on: &CheckedOn) -> Vec<Issue> {
        validate::check_measure(self)
    }
}
impl Checked for Payment {
    fn check(&self, on: &CheckedOn) -> Vec<Issue> {
        validate::check_payment(self, on.today)
    }
}
impl Checked for Relocation {
    fn check(&self, on: &CheckedOn) -> Vec<Issue> {
        validate::check_relocation(self, on.today)
    }
}
impl Checked for Attachment {
    fn check(&self, _on: &CheckedOn) -> Vec<Issue> {
        validate::check_attachment(self)
    }
}
impl Checked for TeamMember {
    fn check(&self, on: &CheckedOn) -> Vec<Issue> {
        validate::check_team_member(self, on.today)
    }
}
impl Checked for Visit {
    fn check(&self, on: &CheckedOn) -> Vec<Issue> {
        validate::check_visit(self, on.today)
    }
}

impl Store {
    /// Writes changes in one transaction after checking every record they leave behind as the
    /// household page would: a wrong check digit, an unknown code or a missing required field
    /// refuses the whole write (`StoreError::Invalid`), and nothing is written. 脱贫退出 rows
    /// are refused here; a household's 脱贫状态 only changes through the exit procedure.
    pub fn write(&mut self, changes: &[Change]) -> Result<WriteOutcome, StoreError> {
        self.check_changes(changes)?;
        self.write_unchecked(changes)
    }

    /// Writes a whole record through [`Store::write`]: one op per field whose value differs
    /// from what is shown.
    pub fn put<E: Checked>(&mut self, record: &E) -> Result<WriteOutcome, StoreError> {
        self.write(&[put_change(record)])
    }

    /// The checks of [`Store::write`]: every row a change sets fields of, as it will be.
    fn check_changes(&self, changes: &[Change]) -> Result<(), StoreError> {
        // Each row's fields as the changes leave them, in the order they were given.
        let mut rows: BTreeMap<(Table, Uuid), Vec<(String, FieldValue)>> = BTreeMap::new();
        let mut set = |table: Table, id: Uuid, name: &str, value: &FieldValue| {
            rows.entry((table, id))
                .or_default()
                .push((name.to_owned(), value.clone()));
        };
        for change in changes {
            if change_table(change) == Table::ExitStep {
                return Err(StoreError::ExitStepByProcedure);
            }
            // 脱贫标准 rows are set on the 脱贫标准 screen (`exit::standards`), which asks about
            // a falling line first; a conflict of two settings is settled here like any other.
            if change_table(change) == Table::Standard && !matches!(change, Change::Resolve { .. })
            {
                return Err(StoreError::StandardBySettings);
            }
            // Policies are set in the catalogue (`policy::catalogue`), which checks the rule
            // parses and the amounts make sense; a conflict of two settings is settled here.
            if change_table(change) == Table::Policy && !matches!(change, Change::Resolve { .. }) {
                return Err(StoreError::PolicyByCatalogue);
            }
            // The county's settings are set on the 脱贫标准 screen (`county_settings`), which
            // checks the value and asks for its source.
            if change_table(change) == Table::CountySetting
                && !matches!(change, Change::Resolve { .. })
            {
                return Err(StoreError::CountySettingBySettings);
            }
            match change {
                Change::Put { table, id, fields } => {
                    for (name, value) in fields {
                        set(*table, *id, name, value);
                    }
                }
                Change::PutOver { table, id, fields } => {
                    for (name, value, _) in fields {
                        set(*table, *id, name, value);
                    }
                }
                Change::Resolve {
                    table,
                    id,
                    field,
                    value,
                } if field != DELETED_FIELD => set(*table, *id, field, value),
                Change::Resolve { .. }
                | Change::Delete { .. }
                | Change::Restore { .. }
                | Change::DeleteSeen { .. } => {}
            }
        }
        let on = CheckedOn {
            today: self.today(),
            county: crate::county_settings::county_settings(self)?,
        };
        let mut issues = Vec::new();
        for ((table, id), fields) in &rows {
            issues.extend(match table {
                Table::Village => self.check_village_row(*id, fields, &on)?,
                Table::Household => self.check_row::<Household>(*id, fields, &on)?,
                Table::Member => self.check_row::<Member>(*id, fields, &on)?,
                Table::Income => self.check_row::<Income>(*id, fields, &on)?,
                Table::Helper => self.check_row::<Helper>(*id, fields, &on)?,
                Table::Pairing => self.check_row::<Pairing>(*id, fields, &on)?,
                Table::Measure => self.check_row::<Measure>(*id, fields, &on)?,
                Table::Visit => self.check_row::<Visit>(*id, fields, &on)?,
                Table::ExitStep => return Err(StoreError::ExitStepByProcedure),
                Table::Standard => self.check_row::<Standard>(*id, fields, &on)?,
                // A settled conflict keeps one of the versions that arrived, each checked
                // where it was written.
                Table::Policy => Vec::new(),
                Table::Payment => self.check_row::<Payment>(*id, fields, &on)?,
                Table::Relocation => self.check_row::<Relocation>(*id, fields, &on)?,
                Table::Attachment => self.check_row::<Attachment>(*id, fields, &on)?,
                Table::TeamMember => self.check_row::<TeamMember>(*id, fields, &on)?,
                // Like the policies: set by `county_settings`, which checks the value; a
                // settled conflict keeps one of the versions that arrived.
                Table::CountySetting => Vec::new(),
            });
        }
        if issues.iter().any(|i| i.severity == Severity::Error) {
            issues.retain(|i| i.severity == Severity::Error);
            return Err(StoreError::Invalid(issues));
        }
        Ok(())
    }

    /// A village row: its own checks; and for its 村情 (any field but what files it), who may
    /// set it and 农村人口 not below the people filed in the village, as the 村情 page checks.
    fn check_village_row(
        &self,
        id: Uuid,
        fields: &[(String, FieldValue)],
        on: &CheckedOn,
    ) -> Result<Vec<Issue>, StoreError> {
        let sheet = fields.iter().any(|(name, value)| {
            !crate::village::IDENTITY_FIELDS.contains(&name.as_str()) && !value.is_null()
        });
        if sheet {
            self.require(crate::access::Permission::SetVillageData)?;
        }
        let mut issues = self.check_row::<Village>(id, fields, on)?;
        if fields.iter().any(|(name, _)| name == "rural_population") {
            let mut after: Village = match self.get(id) {
                Ok(village) => village,
                Err(StoreError::NotFound { .. }) => Village {
                    id,
                    ..Village::default()
                },
                Err(other) => return Err(other),
            };
            for (name, value) in fields {
                if name == "rural_population" {
                    after.rural_population = match value {
                        FieldValue::Int(n) => Some(*n),
                        _ => None,
                    };
                }
            }
            issues.extend(crate::village::rural_population_issue(self, &after)?);
        }
        Ok(issues)
    }

    /// The checks of one row as `fields` leave it: the live record (or a new one) with the
    /// changed fields over it. Only what the change brings is refused: an error the row
    /// already had (a wrong check digit that arrived by a merge, a field another device's op
    /// has not brought yet) stays a finding for the page and the quality list, and does not
    /// block settling a conflict or moving the household. A field the catalog does not know is
    /// left to the write, which names it.
    fn check_row<E: Checked>(
        &self,
        id: Uuid,
        fields: &[(String, FieldValue)],
        on: &CheckedOn,
    ) -> Result<Vec<Issue>, StoreError> {
        let (current, had) = match self.get::<E>(id) {
            Ok(record) => {
                let had: Vec<(&'static str, &'static str)> = record
                    .check(on)
                    .into_iter()
                    .filter(|i| i.severity == Severity::Error)
                    .map(|i| (i.field, i.rule))
                    .collect();
                (record.to_fields(), had)
            }
            // A deleted row (settling an edit of it, say) is shown nowhere until it is
            // restored, and then as it stands: nothing to check here.
            Err(StoreError::NotFound { .. }) if !self.row_heads_by_field(id)?.is_empty() => {
                return Ok(Vec::new());
            }
            Err(StoreError::NotFound { .. }) => (Vec::new(), Vec::new()),
            Err(other) => return Err(other),
        };
        let mut values: BTreeMap<&str, FieldValue> = current.into_iter().collect();
        for (name, value) in fields {
            if let Some(spec) = E::TABLE.field(name) {
                values.insert(spec.name, value.clone());
            }
        }
        let record = E::from_fields(id, &mut |name| {
            values.get(name).cloned().unwrap_or(FieldValue::Null)
        })
        .map_err(|field| StoreError::WrongType {
            table: E::TABLE.label(),
            field: E::TABLE.field(field).map_or(field, |spec| spec.label),
        })?;
        // An error on a field the change writes is the change's own, whatever the row had.
        let touched = |field: &str| fields.iter().any(|(name, _)| name == field);
        let mut issues = record.check(on);
        issues.retain(|i| {
            i.severity != Severity::Error || touched(i.field) || !had.contains(&(i.field, i.rule))
        });
        Ok(issues)
    }
}

/// The table a change writes to.
fn change_table(change: &Change) -> Table {
    match change {
        Change::Put { table, .. }
        | Change::Delete { table, .. }
        | Change::Restore { table, .. }
        | Change::PutOver { table, .. }
        | Change::DeleteSeen { table, .. }
        | Change::Resolve { table, .. } => *table,
    }
}
