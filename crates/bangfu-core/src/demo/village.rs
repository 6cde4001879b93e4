//! The demo village 新文村: 300 filed households with two years of records (2016-2017) and the
//! two years up to today (`recent.rs`), clean except for the few data-quality problems listed
//! in [`DEMO_PROBLEMS`], which the checks should find.

use chrono::{Datelike, NaiveDate};

use super::cadres::{Places, Roster};
use super::household::{FILED_ON, Filed, Fixed, VillageInfo, file_household};
use super::people::Shape;
use super::{DemoSummary, Gen, clock_at, create, write_batch};
use crate::model::{Member, Village};
use crate::store::{Store, StoreError};

/// 统计用区划代码 of the demo village: 云南省 53, 普洱市 08, 县 26, 乡镇 103, 村 201.
pub const VILLAGE_CODE: &str = "530826103201";
const HOUSEHOLDS: usize = 300;
const SEED: u64 = 0x5308_2610_3201;

/// Household sequence numbers that carry a deliberate problem.
const BAD_CHECK_DIGIT: usize = 23;
const NO_HEAD: usize = 47;
const DAUGHTER_AT_HOME: usize = 88;
const DAUGHTER_MARRIED: usize = 156;
const FAR_FROM_ROAD: usize = 201;
const DIBAO_NOT_DIBAO: usize = 264;
const ADULT_IN_PRIMARY_SCHOOL: usize = 70;
const CHILD_AS_LABOUR: usize = 94;
const DIBAO_MEMBER_NOT_DIBAO: usize = 98;
/// The 低保贫困户 whose members are not marked 享受低保 (低保应保尽保): the last one of the
/// generated village, chosen after generation so no other household changes.
const DIBAO_WITHOUT_MEMBER: usize = 294;
/// The household living with the 户主's parents, the elder of whom died in 2017 (减员, recorded
/// at the year's end; the row kept with date and reason): not a problem, the demo's case of a
/// member who left. The last such household of the generated village.
pub const PARENT_DIED: usize = 298;
/// When the parent of [`PARENT_DIED`] died.
pub const PARENT_DIED_ON: (i32, u32, u32) = (2017, 5, 12);

/// The deliberate data-quality problems of the demo village, one line each, as a checker
/// should report them.
pub const DEMO_PROBLEMS: &[&str] = &[
    "户530826103201023：配偶的证件号码校验位错误",
    "户530826103201047：户内没有户主（原户主去世后未变更户主）",
    "户530826103201088与户530826103201156：同一身份证号出现在两户（出嫁女仍登记在娘家户中）",
    "户530826103201201：与村主干路距离8公里，超过5公里且无备注说明",
    "户530826103201264：一般贫困户2017年有低保金收入",
    "户530826103201070：成年人的在校生状况登记为小学",
    "户530826103201094：未满16岁的孩子登记为普通劳动力",
    "户530826103201098：一般贫困户的成员登记为享受低保",
    "户530826103201294：低保贫困户没有一位成员登记为享受低保（低保应保尽保）",
];

/// Writes the demo village into the store: the filing in March 2016, then the year-end
/// records of 2016 and 2017 and the cadre changes, as a work team would enter them; then the
/// records of last year and this year by the store's clock.
pub fn write_demo_village(store: &mut Store) -> Result<DemoSummary, StoreError> {
    // Taken before the fixed clock (tests) is moved to the filing days.
    let today = store.today();
    let mut g = Gen::new(SEED);
    let village = Village {
        id: g.row_id(FILED_ON),
        code: VILLAGE_CODE.into(),
        name: "新文村".into(),
        township: "勐康镇".into(),
        county: "澜江县".into(),
        province: "云南省".into(),
        rural_population: Some(4126),
        // The village exit checklist is filled by the work team, not generated.
        ..Default::default()
    };
    let info = VillageInfo {
        id: village.id,
        code: village.code.clone(),
        address: "澜江县勐康镇新文村".into(),
        township: village.township.clone(),
    };
    let places = Places {
        county: "澜江县",
        township: "勐康镇",
        village: "新文村",
    };
    let roster = Roster::new(&mut g, HOUSEHOLDS, places);
    let mut filed = Vec::with_capacity(HOUSEHOLDS);
    for index in 0..HOUSEHOLDS {
        let seq = index + 1;
        let fixed = match seq {
            BAD_CHECK_DIGIT | NO_HEAD => Fixed {
                shape: Some(Shape::Nuclear),
                attribute: None,
            },
            DAUGHTER_AT_HOME => Fixed {
                shape: Some(Shape::ElderCouple),
                attribute: Some("1"),
            },
            DIBAO_NOT_DIBAO => Fixed {
                shape: Some(Shape::Nuclear),
                attribute: Some("1"),
            },

            _ => Fixed::default(),
        };
        let visits = 6 + index % 5;
        let assignments = roster.assignments(index);
        let mut record = file_household(&mut g, &info, seq, &assignments, visits, fixed);
        if seq == DAUGHTER_MARRIED {
            // Redraw until the daughter-in-law is young enough to be the daughter of the
            // couple in the household she came from.
            let parents = filed
                .get(DAUGHTER_AT_HOME - 1)
                .map_or(0, |f: &Filed| youngest(f));
            let fixed = Fixed {
                shape: Some(Shape::ThreeGenerations),
                attribute: None,
            };
            for _ in 0..50 {
                record = file_household(&mut g, &info, seq, &assignments, visits, fixed);
                if daughter_in_law(&record).is_some_and(|(_, age)| age + 20 <= parents) {
                    break;
                }
            }
        }
        filed.push(record);
    }
    let planted = add_problems(&mut g, &mut filed);

    let mut summary = DemoSummary {
        villages: 1,
        helpers: roster.helpers.len(),
        ..DemoSummary::default()
    };
    store.set_fixed_clock(clock_at(FILED_ON));
    let mut filing = vec![create(&village)];
    filing.extend(roster.helpers.iter().map(create));
    for f in &filed {
        filing.push(create(&f.household));
        filing.extend(f.members.iter().map(create));
        // The first pairing is made at filing, still open then.
        if let Some(first) = f.pairings.first() {
            filing.push(create(&crate::model::Pairing {
                end_date: None,
                ..first.clone()
            }));
        }
        summary.households += 1;
        summary.members += f.members.len();
        summary.visits += f.visits.len();
    }
    write_batch(store, &filing, &mut summary)?;

    for year in [2016, 2017] {
        let year_end = NaiveDate::from_ymd_opt(year, 12, 31).unwrap_or(FILED_ON);
        store.set_fixed_clock(clock_at(year_end));
        let mut changes = Vec::new();
        for f in &filed {
            let in_year = |d: Option<NaiveDate>| d.is_some_and(|d| d.year() == year);
            changes.extend(
                f.incomes
                    .iter()
                    .filter(|i| i.year == Some(i64::from(year)))
                    .map(create),
            );
            changes.extend(
                f.measures
                    .iter()
                    .filter(|m| m.year == Some(i64::from(year)))
                    .map(create),
            );
            changes.extend(
                f.visits
                    .iter()
                    .filter(|v| in_year(v.visit_date))
                    .map(create),
            );
            if year == PARENT_DIED_ON.0
                && let Some(left) = parent_died(f)
            {
                changes.push(create(&left));
            }
            // A cadre change: the old pairing gets its end date, the successor a new row.
            for (k, p) in f.pairings.iter().enumerate() {
                if (k == 0 && in_year(p.end_date)) || (k > 0 && in_year(p.start_date)) {
                    changes.push(create(p));
                }
            }
        }
        write_batch(store, &changes, &mut summary)?;
    }
    super::recent::write_recent_years(store, &filed, &planted, today, &mut summary)?;
    super::policies::write_policy_records(store, &filed, today, &mut summary)?;
    Ok(summary)
}

/// 减员 of [`PARENT_DIED`]: its oldest member besides the 户主 (a parent), with the date and
/// reason (死亡); `None` for every other household.
fn parent_died(f: &Filed) -> Option<Member> {
    if !f.household.code.ends_with(&format!("{PARENT_DIED:03}")) {
        return None;
    }
    let oldest = (1..f.members.len()).max_by_key(|i| f.ages.get(*i).copied().unwrap_or(0))?;
    let (y, mo, d) = PARENT_DIED_ON;
    Some(Member {
        leave_date: NaiveDate::from_ymd_opt(y, mo, d),
        leave_reason: "1".into(),
        ..f.members.get(oldest)?.clone()
    })
}

fn youngest(f: &Filed) -> i32 {
    f.ages.iter().take(2).copied().min().unwrap_or(0)
}

fn daughter_in_law(f: &Filed) -> Option<(usize, i32)> {
    let at = f.members.iter().position(|m| m.relation == "05")?;
    Some((at, f.ages.get(at).copied().unwrap_or(0)))
}

/// Plants the problems; returns the members whose planted value the yearly update of
/// schooling and labour must leave as filed.
fn add_problems(g: &mut Gen, filed: &mut [Filed]) -> Vec<uuid::Uuid> {
    let mut planted = Vec::new();
    let at = |seq: usize| seq - 1;
    if let Some(spouse) = filed
        .get_mut(at(BAD_CHECK_DIGIT))
        .and_then(|f| f.members.get_mut(1))
    {
        let wrong = match spouse.id_number.pop() {
            Some('0') => '1',
            Some('X') => '0',
            Some(c) => char::from_digit((c.to_digit(10).unwrap_or(0) + 1) % 10, 10).unwrap_or('X'),
            None => '0',
        };
        spouse.id_number.push(wrong);
    }
    if let Some(f) = filed.get_mut(at(NO_HEAD)) {
        f.members.remove(0);
        f.ages.remove(0);
    }
    copy_daughter(g, filed);
    if let Some(f) = filed.get_mut(at(FAR_FROM_ROAD)) {
        f.household.road_distance_km = Some(8.0);
        f.household.remark.clear();
    }
    if let Some(income) = filed
        .get_mut(at(DIBAO_NOT_DIBAO))
        .and_then(|f| f.incomes.last_mut())
    {
        income.dibao_allowance = Some(1560.0);
    }
    // Ages are as of the filing (2017).
    if let Some(f) = filed.get_mut(at(ADULT_IN_PRIMARY_SCHOOL)) {
        let adult = f.ages.iter().position(|age| (30..=55).contains(age));
        if let Some(m) = adult.and_then(|i| f.members.get_mut(i)) {
            m.schooling = "02".into();
            planted.push(m.id);
        }
    }
    if let Some(f) = filed.get_mut(at(CHILD_AS_LABOUR)) {
        let child = f.ages.iter().position(|age| *age < 12);
        if let Some(m) = child.and_then(|i| f.members.get_mut(i)) {
            m.labor_skill = "1".into();
            planted.push(m.id);
        }
    }
    if let Some(m) = filed
        .get_mut(at(DIBAO_MEMBER_NOT_DIBAO))
        .and_then(|f| f.members.first_mut())
    {
        m.dibao = Some(true);
    }
    if let Some(f) = filed.get_mut(at(DIBAO_WITHOUT_MEMBER)) {
        for m in &mut f.members {
            m.dibao = Some(false);
        }
    }
    planted
}

/// The married daughter keeps her family's surname in her husband's household and is still
/// listed, with the same ID, in her parents' household.
fn copy_daughter(g: &mut Gen, filed: &mut [Filed]) {
    let Some(home) = filed.get(DAUGHTER_AT_HOME - 1) else {
        return;
    };
    let home_id = home.household.id;
    let Some(parent) = home.members.first() else {
        return;
    };
    let Some(surname) = parent.name.chars().next() else {
        return;
    };
    // The daughter is of her father's 民族 in both registers.
    let ethnicity = parent.ethnicity.clone();
    let Some(married) = filed.get_mut(DAUGHTER_MARRIED - 1) else {
        return;
    };
    let Some((i, age)) = daughter_in_law(married) else {
        return;
    };
    let Some(bride) = married.members.get_mut(i) else {
        return;
    };
    let given: String = bride.name.chars().skip(1).collect();
    bride.name = format!("{surname}{given}");
    bride.ethnicity = ethnicity;
    let at_home = Member {
        id: g.row_id(FILED_ON),
        household_id: Some(home_id),
        relation: "04".into(),
        dibao: Some(false),
        ..bride.clone()
    };
    if let Some(home) = filed.get_mut(DAUGHTER_AT_HOME - 1) {
        home.members.push(at_home);
        home.ages.push(age);
    }
}
