//! Filing a household (建档立卡) as one form save: the household with its members, incomes,
//! pairings, measures and visits, validated together and written in one transaction.

use chrono::NaiveDate;
use rusqlite::OptionalExtension;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::model::{Entity, Helper, Household, Income, Measure, Member, Pairing, Table, Visit};
use crate::store::{Change, Filter, Store, StoreError, put_change};
use crate::validate::{self, Issue, Severity};

/// Everything the household page edits at once.
#[derive(ts_rs::TS, Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct HouseholdFile {
    pub household: Household,
    pub members: Vec<Member>,
    pub incomes: Vec<Income>,
    pub pairings: Vec<Pairing>,
    pub measures: Vec<Measure>,
    pub visits: Vec<Visit>,
}

/// A finding of the household page with the record it is about: the household itself, or one
/// member, income, pairing, measure or visit by its row id.
#[derive(ts_rs::TS, Debug, Clone, PartialEq, Serialize)]
pub struct LocatedIssue {
    pub table: Table,
    pub row_id: Option<Uuid>,
    #[serde(flatten)]
    pub issue: Issue,
}

/// What [`Store::file_households`] wrote: its ops, and each household's warnings by 户编号.
#[derive(Debug, Clone, Default, Serialize)]
pub struct BatchOutcome {
    pub ops: u64,
    pub warnings: Vec<(String, Issue)>,
}

#[derive(ts_rs::TS, Debug, Clone, Default, Serialize)]
pub struct FilingOutcome {
    pub ops: u64,
    /// 疑点 and other warnings: saved anyway, shown to the user.
    pub warnings: Vec<Issue>,
}

fn children<E: Entity>(store: &Store, household: Uuid) -> Result<Vec<E>, StoreError> {
    store.read::<E>(Filter::OfHousehold(household))
}

impl Store {
    /// A household with everything that belongs to it.
    pub fn load_household_file(&self, id: Uuid) -> Result<HouseholdFile, StoreError> {
        Ok(HouseholdFile {
            household: self.get::<Household>(id)?,
            members: children(self, id)?,
            incomes: children(self, id)?,
            pairings: children(self, id)?,
            measures: children(self, id)?,
            visits: children(self, id)?,
        })
    }

    /// Every check of the household page: per record, across the household, and against the
    /// rest of the data file (household code unique in its village, ID filed elsewhere).
    pub fn check_household_file(&self, file: &HouseholdFile) -> Result<Vec<Issue>, StoreError> {
        Ok(self
            .check_household_file_located(file)?
            .into_iter()
            .map(|located| located.issue)
            .collect())
    }

    /// The checks of [`Store::check_household_file`], each with the record it is about, so the
    /// page can show a member's finding on that member's row.
    pub fn check_household_file_located(
        &self,
        file: &HouseholdFile,
    ) -> Result<Vec<LocatedIssue>, StoreError> {
        let h = &file.household;
        let county = crate::county_settings::county_settings(self)?;
        let mut issues = record_checks(file, self.today(), self.today(), &county);
        let conn = self.conn();
        let same_code: Option<String> = conn
            .query_row(
                "SELECT code FROM household WHERE deleted = 0 AND code = ?1 AND id <> ?2
                 AND coalesce(village_id, x'') = coalesce(?3, x'') LIMIT 1",
                rusqlite::params![
                    h.code,
                    h.id.as_bytes().as_slice(),
                    h.village_id.map(|v| v.as_bytes().to_vec())
                ],
                |r| r.get(0),
            )
            .optional()?;
        if same_code.is_some() && !h.code.is_empty() {
            issues.push(code_used_twice(h));
        }
        // A person who left (婚出, 户口迁出) is filed in the household they joined: only
        // current members count as filed twice.
        for m in file
            .members
            .iter()
            .filter(|m| !m.id_number.trim().is_empty() && m.leave_date.is_none())
        {
            if let Some(code) =
                crate::report::quality::person_filed_elsewhere(conn, &m.id_number, Some(h.id))?
            {
                issues.push(filed_elsewhere(m, &code));
            }
        }
        // Payments are recorded apart from the page (its 帮扶措施与发放 box): a measure the page
        // holds is checked against every payment of it this copy has.
        let payments = self.read::<crate::model::Payment>(Filter::OfHousehold(h.id))?;
        if !payments.is_empty() {
            let policies = crate::policy::catalogue::policies_by_id(
                self,
                crate::policy::payments::policy_years(&file.measures),
            )?;
            issues.extend(crate::policy::payments::overpaid_findings(
                file, &payments, &policies,
            ));
        }
        Ok(issues)
    }

    /// Saves the household page. Errors refuse the whole save; warnings are returned.
    /// Records missing from the page (a removed member, say) are deleted.
    pub fn file_household(&mut self, file: &HouseholdFile) -> Result<FilingOutcome, StoreError> {
        let (changes, warnings) = self.household_changes(file)?;
        let outcome = self.write_unchecked(&changes)?;
        Ok(FilingOutcome {
            ops: outcome.ops,
            warnings,
        })
    }

    /// Files several households (an imported roll) with `first` (the villages they need) in
    /// one transaction: each household checked as [`Store::file_household`] checks it, and a
    /// household with errors refuses the whole batch. The warnings come with each household's
    /// 户编号.
    pub fn file_households(
        &mut self,
        first: &[Change],
        files: &[&HouseholdFile],
    ) -> Result<BatchOutcome, StoreError> {
        let mut changes = first.to_vec();
        let mut warnings = Vec::new();
        for file in files {
            let (more, found) = self.household_changes(file)?;
            changes.extend(more);
            warnings.extend(found.into_iter().map(|w| (file.household.code.clone(), w)));
        }
        let outcome = self.write_unchecked(&changes)?;
        Ok(BatchOutcome {
            ops: outcome.ops,
            warnings,
        })
    }

    /// A page that changes a filed household's 所属村 moves it to another village: the
    /// leader's or the township's act ([`crate::access::Permission::MoveHouseholds`]), as
    /// `moving::move_household` is, so a 队员 cannot do by the page's 所属村 what the 迁入…
    /// button refuses. Giving a household its first village is filing, not a move.
    pub(crate) fn require_move_if_moved(&self, household: &Household) -> Result<(), StoreError> {
        let stored: Option<Option<Vec<u8>>> = self
            .conn()
            .query_row(
                "SELECT village_id FROM household WHERE id = ?1 AND deleted = 0",
                [household.id.as_bytes().as_slice()],
                |r| r.get(0),
            )
            .optional()?;
        let stored = stored.flatten().and_then(|b| Uuid::from_slice(&b).ok());
        if stored.is_some() && stored != household.village_id {
            self.require(crate::access::Permission::MoveHouseholds)?;
        }
        Ok(())
    }

    /// The checks and changes of one household page save: errors refuse it, warnings come back
    /// with the changes.
    fn household_changes(
        &self,
        file: &HouseholdFile,
    ) -> Result<(Vec<Change>, Vec<Issue>), StoreError> {
        self.require_move_if_moved(&file.household)?;
        let issues = self.check_household_file(file)?;
        if issues.iter().any(|i| i.severity == Severity::Error) {
            return Err(StoreError::Invalid(issues));
        }
        let id = file.household.id;
        let mut changes = vec![put_change(&file.household)];
        fn sync_children<E: Entity>(
            store: &Store,
            household: Uuid,
            wanted: &[E],
            changes: &mut Vec<Change>,
        ) -> Result<(), StoreError> {
            let mut record_ids = std::collections::HashSet::new();
            for record in wanted {
                record_ids.insert(record.id());
                changes.push(put_change(record));
            }
            for old in children::<E>(store, household)? {
                if !record_ids.contains(&old.id()) {
                    changes.push(Change::Delete {
                        table: E::TABLE,
                        id: old.id(),
                    });
                }
            }
            Ok(())
        }
        sync_children(self, id, &file.members, &mut changes)?;
        sync_children(self, id, &file.incomes, &mut changes)?;
        sync_children(self, id, &file.pairings, &mut changes)?;
        sync_children(self, id, &file.measures, &mut changes)?;
        sync_children(self, id, &file.visits, &mut changes)?;
        let warnings = issues
            .into_iter()
            .filter(|i| i.severity == Severity::Warning)
            .collect();
        Ok((changes, warnings))
    }

    /// Saves a 帮扶责任人 (name, unit, phone…) typed where a household's cadre is chosen.
    /// Errors refuse the save; warnings are returned.
    pub fn file_helper(&mut self, helper: &Helper) -> Result<FilingOutcome, StoreError> {
        let issues = validate::check_helper(helper);
        if issues.iter().any(|i| i.severity == Severity::Error) {
            return Err(StoreError::Invalid(issues));
        }
        let outcome = self.put_unchecked(helper)?;
        Ok(FilingOutcome {
            ops: outcome.ops,
            warnings: issues,
        })
    }
}

/// Every check that needs only the household's own records: per record, then across the
/// household (户主, IDs repeated within the household, 疑点), which concern several records at
/// once and so are shown with the household.
///
/// `ages_on` is the day ages are judged on for the 疑点 of who lives in the household: today
/// on the page; the end of the work year in the quality list, so a file of 2018 read today is
/// judged by the ages its records were true for.
pub(crate) fn record_checks(
    file: &HouseholdFile,
    today: NaiveDate,
    ages_on: NaiveDate,
    county: &crate::county_settings::CountySettings,
) -> Vec<LocatedIssue> {
    let h = &file.household;
    let mut issues: Vec<LocatedIssue> = Vec::new();
    let mut at = |table: Table, row: Option<Uuid>, found: Vec<Issue>| {
        issues.extend(found.into_iter().map(|issue| LocatedIssue {
            table,
            row_id: row,
            issue,
        }));
    };
    at(
        Table::Household,
        None,
        validate::check_household(h, today, county),
    );
    for m in &file.members {
        at(Table::Member, Some(m.id), validate::check_member(m, today));
    }
    for i in &file.incomes {
        at(Table::Income, Some(i.id), validate::check_income(i));
    }
    for p in &file.pairings {
        at(Table::Pairing, Some(p.id), validate::check_pairing(p));
    }
    for m in &file.measures {
        at(Table::Measure, Some(m.id), validate::check_measure(m));
    }
    for v in &file.visits {
        at(Table::Visit, Some(v.id), validate::check_visit(v, today));
    }
    // The household's make-up (one 户主, no person twice, the county's 疑点) is judged on its
    // current members: a 户主 who died keeps the row and relation, beside the new 户主.
    let current = crate::model::derived::current_members(&file.members);
    at(
        Table::Household,
        None,
        validate::check_household_file(h, &current, &file.incomes),
    );
    at(
        Table::Household,
        None,
        validate::check_composition(h, &current, &file.pairings, ages_on),
    );
    issues
}

/// Another live household of the same village has this household's code.
pub(crate) fn code_used_twice(h: &Household) -> LocatedIssue {
    LocatedIssue {
        table: Table::Household,
        row_id: None,
        issue: Issue::error(
            "code",
            "household_code.duplicate",
            format!("户编号 {} 在本村已被另一户使用", h.code),
        ),
    }
}

/// The member's resident ID is filed in another household (`other_code`).
pub(crate) fn filed_elsewhere(m: &Member, other_code: &str) -> LocatedIssue {
    LocatedIssue {
        table: Table::Member,
        row_id: Some(m.id),
        issue: Issue {
            field: "id_number",
            severity: Severity::Warning,
            rule: "resident_id.filed_elsewhere",
            message: format!(
                "{} 的证件号码 {} 已在户 {other_code} 登记，请核实是否重复建档",
                m.name, m.id_number
            ),
            suggestion: None,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::OpenOptions;

    /// A valid resident ID for a birth date and sequence (check digit computed).
    fn id_number(prefix17: &str) -> String {
        const W: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
        let sum: u32 = prefix17
            .chars()
            .zip(W)
            .map(|(c, w)| c.to_digit(10).unwrap() * w)
            .sum();
        format!(
            "{prefix17}{}",
            ['1', '0', 'X', '9', '8', '7', '6', '5', '4', '3', '2'][(sum % 11) as usize]
        )
    }

    fn store(dir: &tempfile::TempDir) -> Store {
        let options = OpenOptions {
            identity_dir: Some(dir.path().join("r")),
            fixed_clock_ms: Some(1_750_000_000_000),
            ..Default::default()
        };
        Store::open(dir.path().join("a.sqlite"), &options).unwrap()
    }

    fn page() -> HouseholdFile {
        let household = Household {
            id: Uuid::now_v7(),
            code: "530826103201001".into(),
            identify_standard: "1".into(),
            attribute: "1".into(),
            poverty_status: "1".into(),
            main_cause: "01".into(),
            ..Default::default()
        };
        let member = |name: &str, relation: &str, id: String, sex: &str| Member {
            id: Uuid::now_v7(),
            household_id: Some(household.id),
            name: name.into(),
            relation: relation.into(),
            id_number: id,
            sex: sex.into(),
            ..Default::default()
        };
        HouseholdFile {
            members: vec![
                member("王大山", "01", id_number("53082619700101001"), "1"),
                member("李秀英", "02", id_number("53082619720202002"), "2"),
            ],
            household,
            ..Default::default()
        }
    }

    #[test]
    fn a_valid_page_is_saved_and_read_back_whole() {
        let dir = tempfile::tempdir().unwrap();
        let mut s = store(&dir);
        let file = page();
        let out = s.file_household(&file).unwrap();
        assert!(out.ops > 10);
        assert_eq!(s.load_household_file(file.household.id).unwrap(), file);
    }

    #[test]
    fn an_invalid_id_refuses_the_whole_save_and_writes_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let mut s = store(&dir);
        let mut file = page();
        let mut bad = id_number("53082619720202002");
        let last = if bad.ends_with('0') { '1' } else { '0' };
        bad.pop();
        bad.push(last);
        file.members[1].id_number = bad;
        let err = s.file_household(&file).unwrap_err();
        let StoreError::Invalid(issues) = &err else {
            panic!("{err}")
        };
        assert!(
            issues.iter().any(|i| i.rule == "resident_id.checksum"),
            "{issues:?}"
        );
        assert!(crate::UserFacing::message_zh(&err).contains("校验"));
        assert_eq!(s.op_count().unwrap(), 0);
    }

    #[test]
    fn removing_a_member_from_the_page_deletes_it_and_two_heads_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let mut s = store(&dir);
        let mut file = page();
        s.file_household(&file).unwrap();
        file.members.pop();
        s.file_household(&file).unwrap();
        assert_eq!(
            s.load_household_file(file.household.id)
                .unwrap()
                .members
                .len(),
            1
        );
        let mut twice = file.clone();
        let mut second = twice.members[0].clone();
        second.id = Uuid::now_v7();
        second.id_number = id_number("53082619900303003");
        twice.members.push(second);
        let err = s.file_household(&twice).unwrap_err();
        assert!(
            matches!(&err, StoreError::Invalid(i) if i.iter().any(|i| i.rule == "household.head_multiple"))
        );
    }

    #[test]
    fn the_same_person_in_another_household_is_a_warning_and_a_code_in_use_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let mut s = store(&dir);
        let first = page();
        s.file_household(&first).unwrap();
        let mut second = page();
        second.household.code = "530826103201002".into();
        second.members[1].id_number = first.members[1].id_number.clone();
        let out = s.file_household(&second).unwrap();
        assert!(
            out.warnings
                .iter()
                .any(|w| w.rule == "resident_id.filed_elsewhere")
        );
        let mut third = page();
        third.members[0].id_number = id_number("53082619800404004");
        third.members[1].id_number = id_number("53082619820505005");
        let err = s.file_household(&third).unwrap_err();
        assert!(
            matches!(&err, StoreError::Invalid(i) if i.iter().any(|i| i.rule == "household_code.duplicate"))
        );
    }

    #[test]
    fn a_new_cadre_is_saved_whole_or_refused_with_what_to_fix() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = store(&dir);
        let cadre = Helper {
            id: Uuid::now_v7(),
            name: "李明".into(),
            unit: "凤庆县农业农村局".into(),
            phone: "13812345678".into(),
            ..Default::default()
        };
        store.file_helper(&cadre).unwrap();
        assert_eq!(store.get::<Helper>(cadre.id).unwrap(), cadre);

        let cases = [
            (
                Helper {
                    name: String::new(),
                    ..cadre.clone()
                },
                "姓名",
            ),
            (
                Helper {
                    unit: String::new(),
                    ..cadre.clone()
                },
                "帮扶单位",
            ),
            (
                Helper {
                    phone: "13812abc".into(),
                    ..cadre.clone()
                },
                "联系电话",
            ),
        ];
        for (bad, field) in cases {
            let bad = Helper {
                id: Uuid::now_v7(),
                ..bad
            };
            let err = store.file_helper(&bad).unwrap_err();
            let StoreError::Invalid(issues) = &err else {
                panic!("{err}");
            };
            assert!(
                issues.iter().any(|i| i.message.contains(field)),
                "{issues:?}"
            );
            assert!(
                store.get::<Helper>(bad.id).is_err(),
                "nothing written for {field}"
            );
        }
    }
}
