//! The demo village's policy records (issue 17), written after the recent years as a team
//! would enter them: the filing years' free-text measures that clearly fit a policy made
//! structured and paid as the county paid them (the "2355" in its parts, the last two only to
//! exited households), the relocated households' new houses stage by stage, a few more
//! students (中职, 高职, 大专, three of them disabled), a household in a dangerous house found to
//! be 五保, and this year's structured measures and payments for two in three of those the
//! catalogue names, so the rest stay 应享未享. A few deliberate cases show the other states:
//! 医疗救助 above its cap, a student aid paid twice, a student aid for a member who is not a
//! student. Drawn from generators of its own; the earlier steps are untouched.

use chrono::{Datelike, NaiveDate};
use rand::Rng;
use uuid::Uuid;

use super::household::Filed;
use super::{DemoSummary, Gen, create};
use crate::model::{FieldValue, Household, Measure, Member, Payment, Table, codes};
use crate::policy::{self, DueState, PolicyError, match_free_text_measures};
use crate::report::figures::is_still_poor;
use crate::store::{Change, Filter, Store, StoreError};
use crate::validate::resident_id;

const SEED: u64 = 0x5308_2610_3201_0017;

/// The first households are left for trying the 退出 tab (see `recent.rs`); the demo's own
/// policy cases start after them.
const FIRST_CASE: usize = 10;

/// 惠农一卡通, how most aid reaches a household.
const CARD: &str = "1";
/// 银行转账, how the leading enterprise's share is paid.
const BANK: &str = "2";

fn store_error(e: PolicyError) -> StoreError {
    match e {
        PolicyError::Store(e) => e,
        // The demo writes only what its own catalogue names; anything else is a bug in the
        // demo, reported as a refused write rather than a panic.
        other => StoreError::Invalid(vec![crate::validate::Issue::error(
            "policy",
            "demo.policy",
            other.to_string(),
        )]),
    }
}

/// Writes the policy records; the ops written are added to the summary.
pub fn write_policy_records(
    store: &mut Store,
    filed: &[Filed],
    today: NaiveDate,
    summary: &mut DemoSummary,
) -> Result<(), StoreError> {
    let before = store.op_count()?;
    // The store's clock stands where the earlier steps left it (today, or the last day of the
    // filing years when today is in them); moving it back would put their records in the future.
    let today = store.today().max(today);
    let mut g = Gen::new(SEED ^ u64::from(today.year().unsigned_abs()));
    let ids: Vec<Uuid> = filed.iter().map(|f| f.household.id).collect();
    match_free_text_measures(store, &ids, true).map_err(store_error)?;
    pay_filed_measures(store, &mut g, &ids, today)?;
    relocation_stages(store, &ids, today)?;
    add_students(store, &mut g, filed, today)?;
    add_wubao_in_danger(store, filed)?;
    this_years_measures(store, &mut g, &ids, today).map_err(store_error)?;
    summary.ops += u64::try_from(store.op_count()? - before).unwrap_or(0);
    Ok(())
}

/// The completed structured measures of the filing years are paid in their year.
fn pay_filed_measures(
    store: &mut Store,
    g: &mut Gen,
    households: &[Uuid],
    today: NaiveDate,
) -> Result<(), StoreError> {
    let mut changes = Vec::new();
    for &id in households {
        let household = store.get::<Household>(id)?;
        let exited = !is_still_poor(&household.poverty_status);
        for m in store.read::<Measure>(Filter::OfHousehold(id))? {
            let (Some(_), Some(year), "3") = (m.policy_id, m.year, m.status.as_str()) else {
                continue;
            };
            let Ok(year) = i32::try_from(year) else {
                continue;
            };
            let day = |month, d| NaiveDate::from_ymd_opt(year, month, d);
            let parts: Vec<(Option<NaiveDate>, f64, &str, &str)> = if m.description.contains("2355")
            {
                let mut parts = vec![
                    (day(5, 20), 2000.0, CARD, "到户补助"),
                    (day(6, 30), 3000.0, BANK, "龙头企业带动，拨付合作企业"),
                ];
                if exited {
                    parts.push((day(12, 10), 500.0, CARD, "如期脱贫奖励"));
                    parts.push((day(12, 20), 500.0, BANK, "全村脱贫奖励，拨付村集体"));
                }
                parts
            } else {
                let amount = m.amount_due.or(m.amount).unwrap_or(0.0);
                vec![(day(9, 10), amount, CARD, "")]
            };
            for (date, amount, channel, note) in parts {
                if amount <= 0.0 {
                    continue;
                }
                // A file whose clock stands in the filing year itself (the tests') is paid
                // up to its today, never after.
                let date = date.unwrap_or(today).min(today);
                changes.push(create(&payment(g, &m, date, amount, channel, note)));
            }
        }
    }
    store.write(&changes)?;
    Ok(())
}

fn payment(
    g: &mut Gen,
    m: &Measure,
    date: NaiveDate,
    amount: f64,
    channel: &str,
    note: &str,
) -> Payment {
    Payment {
        id: g.row_id(date),
        household_id: m.household_id,
        measure_id: Some(m.id),
        pay_date: Some(date),
        amount: Some(amount),
        channel: channel.into(),
        note: note.into(),
    }
}

fn age(m: &Member, today: NaiveDate) -> Option<u32> {
    let id = resident_id::parse(&m.id_number, today).ok()?;
    Some(resident_id::age_on(id.birth, today))
}

/// The relocated households' new houses, stage by stage from the spring of their measure's
/// year: a completed measure's house was finished and moved into the next spring; the others
/// stand at 主体. One household in three took a loan when building started.
fn relocation_stages(
    store: &mut Store,
    households: &[Uuid],
    today: NaiveDate,
) -> Result<(), StoreError> {
    const SITES: [&str; 2] = ["勐康镇集镇安置点", "新文村坝区安置点"];
    // A generator of its own, so the other steps draw as before.
    let mut g = Gen::new(SEED ^ 0x02);
    let mut changes = Vec::new();
    for &id in households {
        let measures = store.read::<Measure>(Filter::OfHousehold(id))?;
        let Some(m) = measures.iter().find(|m| m.path == "02") else {
            continue;
        };
        let Some(year) = m.year.and_then(|y| i32::try_from(y).ok()) else {
            continue;
        };
        let site = SITES[g.rng.gen_range(0..SITES.len())];
        let loan = g.rng.gen_range(0..3) == 0;
        let mut stages = vec![("1", year, 3, 10), ("2", year, 5, 20), ("3", year, 8, 15)];
        if m.status == "3" {
            stages.push(("4", year, 12, 1));
            stages.push(("5", year + 1, 3, 1));
        }
        for (stage, y, month, d) in stages {
            let Some(date) = NaiveDate::from_ymd_opt(y, month, d).filter(|d| *d <= today) else {
                continue;
            };
            changes.push(create(&crate::model::Relocation {
                id: g.row_id(date),
                household_id: Some(id),
                site: site.into(),
                stage: stage.into(),
                stage_date: Some(date),
                loan: (stage == "1" && loan).then_some(30_000.0),
                note: String::new(),
                site_village: String::new(),
            }));
        }
    }
    store.write(&changes)?;
    Ok(())
}

/// A few young people not at school go on to 中职, 高职 and 大专 this year; three of them are
/// disabled (肢体残疾 四级), for the 扶残助学 policies of each level. As the yearly update files students, they count as 无劳动力 while at school.
fn add_students(
    store: &mut Store,
    g: &mut Gen,
    filed: &[Filed],
    today: NaiveDate,
) -> Result<(), StoreError> {
    // (schooling, youngest, oldest, disabled) of each new student, in order.
    let wanted = [
        ("21", 16, 18, false),
        ("22", 17, 19, true),
        ("31", 18, 21, false),
        ("40", 19, 22, true),
        ("32", 18, 21, true),
    ];
    let mut changes = Vec::new();
    let mut taken: Vec<Uuid> = Vec::new();
    for (schooling, from, to, disabled) in wanted {
        let start = g.rng.gen_range(FIRST_CASE..filed.len().max(FIRST_CASE + 1));
        let found = filed
            .iter()
            .cycle()
            .skip(start)
            .take(filed.len())
            .filter(|f| is_still_poor(&f.household.poverty_status))
            .flat_map(|f| f.members.iter())
            .find(|m| {
                let now = store.get::<Member>(m.id).ok();
                let schooling_now = now.as_ref().map_or("", |n| n.schooling.as_str());
                !taken.contains(&m.id)
                    && matches!(schooling_now, "00" | "")
                    && m.relation != codes::RELATION_HEAD
                    && age(m, today).is_some_and(|a| (from..=to).contains(&a))
            });
        let Some(m) = found else { continue };
        taken.push(m.id);
        let mut fields = vec![
            ("schooling", FieldValue::Text(schooling.into())),
            ("labor_skill", FieldValue::Text("4".into())),
            ("work_status", FieldValue::Null),
            ("work_months", FieldValue::Null),
        ];
        if disabled {
            fields.push(("health", FieldValue::Text(codes::HEALTH_DISABLED.into())));
            fields.push(("disability_category", FieldValue::Text("4".into())));
            fields.push(("disability_grade", FieldValue::Text("4".into())));
        }
        changes.push(Change::Put {
            table: Table::Member,
            id: m.id,
            fields,
        });
    }
    store.write(&changes)?;
    Ok(())
}

/// A household still poor in a dangerous house, with no 低保 in it, is found at this year's
/// review to be 特困供养 (五保): the 无房五保户 housing policy names it.
fn add_wubao_in_danger(store: &mut Store, filed: &[Filed]) -> Result<(), StoreError> {
    for f in filed.iter().skip(FIRST_CASE) {
        let h = store.get::<Household>(f.household.id)?;
        let candidate = h.attribute == "1"
            && is_still_poor(&h.poverty_status)
            && h.dangerous_house == Some(true);
        if !candidate {
            continue;
        }
        let incomes = store.read::<crate::model::Income>(Filter::OfHousehold(h.id))?;
        let members = store.read::<Member>(Filter::OfHousehold(h.id))?;
        let dibao = incomes.iter().any(|i| i.dibao_allowance.is_some())
            || members.iter().any(|m| m.dibao == Some(true));
        if dibao {
            continue;
        }
        store.write(&[Change::Put {
            table: Table::Household,
            id: h.id,
            fields: vec![("attribute", FieldValue::Text("3".into()))],
        }])?;
        return Ok(());
    }
    Ok(())
}

/// This year's structured measures: two households in three get what they are owed (paid in
/// full, a service marked 已完成); the rest stay 应享未享. Then the deliberate cases.
fn this_years_measures(
    store: &mut Store,
    g: &mut Gen,
    households: &[Uuid],
    today: NaiveDate,
) -> Result<(), PolicyError> {
    let year = today.year();
    let paid_on = NaiveDate::from_ymd_opt(year, 3, 20)
        .filter(|d| *d <= today)
        .unwrap_or(today);
    let mut over_cap_done = false;
    let mut twice_done = false;
    let mut not_a_student_done = false;
    for (index, &id) in households.iter().enumerate() {
        let due = policy::household_due(store, id, year)?;
        for e in due.iter().filter(|e| e.state == DueState::Due) {
            let case = index >= FIRST_CASE;
            let over_cap = case && !over_cap_done && e.policy_code == "medical_aid";
            let twice = case && !twice_done && e.policy_code == "edu_high_school";
            if !(over_cap || twice) && g.rng.gen_range(0..3) == 0 {
                continue;
            }
            let policy = policy::policy_of(store, year, &e.policy_code)?;
            // A training names who attended: the first member of working age with labour.
            let attendee = if policy.code == "training_guided" {
                store
                    .read::<Member>(Filter::OfHousehold(id))?
                    .into_iter()
                    .find(|m| {
                        age(m, today).is_some_and(|a| (16..=55).contains(&a))
                            && matches!(m.labor_skill.as_str(), "1" | "2")
                    })
            } else {
                None
            };
            let service = policy.allowed().is_none();
            // One measure in five is recorded but not paid yet: still 应享未享.
            let unpaid = !(over_cap || twice || service) && g.rng.gen_range(0..5) == 0;
            let measure = Measure {
                id: g.row_id(paid_on),
                household_id: Some(id),
                year: Some(i64::from(year)),
                path: policy.path.clone(),
                description: match (&attendee, e.member_name.is_empty()) {
                    (Some(m), _) => format!("{}：{}", m.name, policy.name),
                    (None, true) => policy.name.clone(),
                    (None, false) => format!("{}：{}", e.member_name, policy.name),
                },
                status: if unpaid { "2" } else { "3" }.into(),
                policy_id: Some(policy::policy_id(year, &policy.code)),
                member_id: e.member_id.or(attendee.as_ref().map(|m| m.id)),
                amount_due: policy.amount,
                // The report's 引导性培训: two days.
                training_kind: if attendee.is_some() { "1" } else { "" }.into(),
                training_days: attendee.as_ref().map(|_| 2),
                ..Default::default()
            };
            let amounts: Vec<f64> = if unpaid {
                Vec::new()
            } else if over_cap {
                over_cap_done = true;
                vec![30_000.0, 22_000.0]
            } else if twice {
                twice_done = true;
                vec![3000.0, 3000.0]
            } else if policy.code == "medical_aid" {
                vec![f64::from(g.rng.gen_range(20..120u32)) * 100.0]
            } else {
                policy.amount.into_iter().collect()
            };
            let mut changes = vec![create(&measure)];
            for amount in amounts {
                changes.push(create(&payment(g, &measure, paid_on, amount, CARD, "")));
            }
            store.write(&changes)?;
        }
        // A 高中 aid recorded for the 户主 of a household with a 高中 student: he is not one.
        if !not_a_student_done && index >= FIRST_CASE {
            let members = store.read::<Member>(Filter::OfHousehold(id))?;
            let has_student = members
                .iter()
                .any(|m| matches!(m.schooling.as_str(), "11" | "12" | "13"));
            let head = members
                .iter()
                .find(|m| m.relation == codes::RELATION_HEAD && m.schooling == "00");
            if let (true, Some(head)) = (has_student, head) {
                not_a_student_done = true;
                let measure = Measure {
                    id: g.row_id(paid_on),
                    household_id: Some(id),
                    year: Some(i64::from(year)),
                    path: "04".into(),
                    description: format!("{}：普通高中学生一次性补助", head.name),
                    status: "3".into(),
                    policy_id: Some(policy::policy_id(year, "edu_high_school")),
                    member_id: Some(head.id),
                    amount_due: Some(3000.0),
                    ..Default::default()
                };
                let paid = payment(g, &measure, paid_on, 3000.0, CARD, "");
                store.write(&[create(&measure), create(&paid)])?;
            }
        }
    }
    Ok(())
}
