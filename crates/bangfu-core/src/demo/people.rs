//! Families of the demo data: who lives in a household, with ages, relations, sexes and
//! resident IDs that agree with each other, and each member's schooling, health and work.

use chrono::{Datelike, NaiveDate};
use rand::Rng;
use rand::seq::SliceRandom;
use uuid::Uuid;

use super::{Gen, names};
use crate::model::Member;

/// The date the data describes; ages are counted to it.
pub const AS_OF_YEAR: i32 = 2017;

/// How a household is made up.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shape {
    /// An old person living alone.
    Single,
    ElderCouple,
    /// A couple with children.
    Nuclear,
    /// A widowed parent with children.
    SingleParent,
    /// An older couple with a married son, his wife and grandchildren.
    ThreeGenerations,
    /// A couple with children and the head's parents.
    WithParents,
}

impl Shape {
    pub fn draw(rng: &mut impl Rng) -> Shape {
        match rng.gen_range(0..100) {
            0..10 => Shape::Single,
            10..20 => Shape::ElderCouple,
            20..60 => Shape::Nuclear,
            60..68 => Shape::SingleParent,
            68..84 => Shape::ThreeGenerations,
            _ => Shape::WithParents,
        }
    }
}

/// One person before the details are filled: relation code, sex and age.
#[derive(Debug, Clone, Copy)]
struct Plan {
    relation: &'static str,
    male: bool,
    age: i32,
    /// Carries the family surname (the father's line) rather than one of their own.
    family_name: bool,
}

fn person(relation: &'static str, male: bool, age: i32, family_name: bool) -> Plan {
    Plan {
        relation,
        male,
        age,
        family_name,
    }
}

/// Children of a couple: none older than the mother minus 19 or the father minus 20.
fn children(
    rng: &mut impl Rng,
    count: usize,
    youngest_parent: i32,
    plans: &mut Vec<Plan>,
    grand: bool,
) {
    let oldest = youngest_parent - 20;
    if oldest < 0 {
        return;
    }
    for _ in 0..count {
        let male = rng.gen_bool(0.52);
        let relation = match (grand, male) {
            (false, true) => "03",
            (false, false) => "04",
            (true, true) => "07",
            (true, false) => "08",
        };
        plans.push(person(
            relation,
            male,
            rng.gen_range(0..=oldest.min(24)),
            true,
        ));
    }
}

fn kid_count(rng: &mut impl Rng) -> usize {
    match rng.gen_range(0..10) {
        0..3 => 1,
        3..8 => 2,
        _ => 3,
    }
}

fn compose(rng: &mut impl Rng, shape: Shape) -> Vec<Plan> {
    let mut plans = Vec::new();
    match shape {
        Shape::Single => plans.push(person(
            "01",
            rng.gen_bool(0.6),
            rng.gen_range(60..=88),
            true,
        )),
        Shape::ElderCouple => {
            let head = rng.gen_range(58..=82);
            plans.push(person("01", true, head, true));
            plans.push(person(
                "02",
                false,
                (head - rng.gen_range(0..=6)).max(55),
                false,
            ));
        }
        Shape::Nuclear => {
            let head = rng.gen_range(26..=55);
            let wife = (head - rng.gen_range(-1..=5)).max(21);
            plans.push(person("01", true, head, true));
            plans.push(person("02", false, wife, false));
            let n = kid_count(rng);
            children(rng, n, head.min(wife + 1), &mut plans, false);
        }
        Shape::SingleParent => {
            let male = rng.gen_bool(0.35);
            let head = rng.gen_range(30..=55);
            plans.push(person("01", male, head, male));
            let n = kid_count(rng);
            children(rng, n, head, &mut plans, false);
        }
        Shape::ThreeGenerations => {
            let head = rng.gen_range(50..=70);
            let wife = (head - rng.gen_range(0..=5)).max(48);
            plans.push(person("01", true, head, true));
            plans.push(person("02", false, wife, false));
            let son = rng.gen_range(22..=(wife - 20).clamp(22, 42));
            let daughter_in_law = (son - rng.gen_range(-2..=4)).max(20);
            plans.push(person("03", true, son, true));
            plans.push(person("05", false, daughter_in_law, false));
            let n = rng.gen_range(1..=2);
            children(rng, n, son.min(daughter_in_law + 1), &mut plans, true);
        }
        Shape::WithParents => {
            let head = rng.gen_range(27..=45);
            let wife = (head - rng.gen_range(-1..=5)).max(21);
            plans.push(person("01", true, head, true));
            plans.push(person("02", false, wife, false));
            let n = rng.gen_range(0..=2);
            children(rng, n, head.min(wife + 1), &mut plans, false);
            let father = (head + rng.gen_range(22..=34)).min(90);
            if rng.gen_bool(0.6) {
                plans.push(person("11", true, father, true));
            }
            plans.push(person(
                "12",
                false,
                (father - rng.gen_range(0..=5)).max(head + 20),
                false,
            ));
        }
    }
    plans
}

/// 民族 of a village in southern Yunnan: 哈尼族, 彝族, 汉族, 傣族, 瑶族.
pub fn draw_ethnicity(rng: &mut impl Rng) -> &'static str {
    match rng.gen_range(0..100) {
        0..40 => "16",
        40..65 => "07",
        65..85 => "01",
        85..95 => "18",
        _ => "13",
    }
}

/// School status and 文化程度 of a child by age at the start of the 2017 school year.
fn school(rng: &mut impl Rng, school_age: i32) -> (&'static str, &'static str) {
    match school_age {
        ..3 => ("00", "6"),
        3..6 => ("01", "6"),
        6..12 => ("02", "2"),
        12 => ("07", "3"),
        13 => ("08", "3"),
        14 => ("09", "3"),
        15..18 => match rng.gen_range(0..10) {
            0..5 => (["11", "12", "13"][(school_age - 15) as usize], "4"),
            5..8 => (["21", "22", "23"][(school_age - 15) as usize], "4"),
            _ => ("00", "3"),
        },
        18..21 => match rng.gen_range(0..10) {
            0..3 => (["31", "32", "33"][(school_age - 18) as usize], "5"),
            3..4 => ("40", "5"),
            _ => ("00", if rng.gen_bool(0.4) { "4" } else { "3" }),
        },
        _ => ("00", adult_education(rng, school_age)),
    }
}

fn adult_education(rng: &mut impl Rng, age: i32) -> &'static str {
    let roll = rng.gen_range(0..100);
    match age {
        ..40 => ["3", "3", "3", "2", "4", "2", "3", "3", "4", "5"][(roll / 10) as usize],
        40..60 => ["2", "2", "3", "2", "1", "3", "2", "3", "2", "1"][(roll / 10) as usize],
        _ => ["1", "1", "2", "1", "2", "1", "1", "2", "1", "2"][(roll / 10) as usize],
    }
}

/// A household's members and their ages, in the order of the form (户主 first).
#[derive(Debug, Default)]
pub struct Family {
    pub members: Vec<Member>,
    pub ages: Vec<i32>,
}

/// What the household decides for all its members.
#[derive(Debug, Clone, Copy)]
pub struct FamilyContext<'a> {
    pub household_id: Uuid,
    pub area: &'a str,
    pub ethnicity: &'static str,
    pub dibao: bool,
    pub filed_on: NaiveDate,
}

pub fn family(g: &mut Gen, shape: Shape, ctx: FamilyContext<'_>) -> Family {
    let plans = compose(&mut g.rng, shape);
    let family_surname = names::surname(&mut g.rng);
    let mut out = Family::default();
    for plan in plans {
        let surname = if plan.family_name {
            family_surname
        } else {
            names::surname(&mut g.rng)
        };
        let member = member(g, &plan, surname, ctx);
        out.members.push(member);
        out.ages.push(plan.age);
    }
    out
}

fn member(g: &mut Gen, plan: &Plan, surname: &str, ctx: FamilyContext<'_>) -> Member {
    let rng = &mut g.rng;
    let year = AS_OF_YEAR - plan.age;
    let birth = NaiveDate::from_yo_opt(year, rng.gen_range(1..=365)).unwrap_or_default();
    // Age completed by 31 August 2017 decides the school year.
    let school_age = plan.age - i32::from(birth.ordinal() > 243);
    let (schooling, education) = school(rng, school_age);
    let student = schooling != "00";
    let (health, disability) = health(rng, plan.age);
    let ill = health.contains('3') || disability.is_some_and(|(_, grade)| grade <= "2");
    let labor = match plan.age {
        _ if plan.age < 16 || student => "4",
        _ if ill => "3",
        66.. => {
            if rng.gen_bool(0.7) {
                "3"
            } else {
                "1"
            }
        }
        _ => {
            if rng.gen_bool(0.8) {
                "1"
            } else {
                "2"
            }
        }
    };
    let working = matches!(labor, "1" | "2") && plan.age < 60 && rng.gen_bool(0.45);
    let (work_status, work_months) = if working {
        let place = ["1", "2", "3", "4", "4", "3"]
            .choose(rng)
            .copied()
            .unwrap_or("3");
        (place, Some(rng.gen_range(3..=11)))
    } else {
        ("", None)
    };
    let political = match plan.age {
        25.. if rng.gen_bool(0.06) => "01",
        14..=28 if rng.gen_bool(0.35) => "03",
        _ => "13",
    };
    let ethnicity = if plan.family_name || rng.gen_bool(0.7) {
        ctx.ethnicity
    } else {
        draw_ethnicity(rng)
    };
    let phone = if plan.relation == "01" || (plan.age >= 18 && rng.gen_bool(0.4)) {
        names::mobile(rng)
    } else {
        String::new()
    };
    let name = names::full_name(rng, surname, plan.male);
    let id = g.row_id(ctx.filed_on);
    let mut id_number = g.resident_id(ctx.area, birth, plan.male);
    let (category, grade) = disability.unwrap_or(("", ""));
    // About half of the disabled show the 20-digit disabled-person card: ID, category, grade.
    if disability.is_some() && g.rng.gen_bool(0.5) {
        id_number = format!("{id_number}{category}{grade}");
    }
    Member {
        id,
        household_id: Some(ctx.household_id),
        name,
        sex: if plan.male { "1" } else { "2" }.into(),
        id_number,
        relation: plan.relation.into(),
        ethnicity: ethnicity.into(),
        political_status: political.into(),
        education: education.into(),
        schooling: schooling.into(),
        health,
        disability_category: category.into(),
        disability_grade: grade.into(),
        labor_skill: labor.into(),
        work_status: work_status.into(),
        work_months,
        medical_insurance: Some(true),
        serious_illness_insurance: Some(true),
        pension_insurance: Some(plan.age >= 16 && !student),
        dibao: Some(ctx.dibao),
        active_military: Some(false),
        phone,
        ..Default::default()
    }
}

/// 健康状况 (a set of codes) and, for the disabled, (残疾类别, 残疾等级).
fn health(rng: &mut impl Rng, age: i32) -> (String, Option<(&'static str, &'static str)>) {
    let mut codes = Vec::new();
    let chronic = if age >= 50 { 0.25 } else { 0.05 };
    if rng.gen_bool(chronic) {
        codes.push("2");
    }
    if rng.gen_bool(0.03) {
        codes.push("3");
    }
    let disability = rng.gen_bool(0.045).then(|| {
        codes.push("4");
        let category = ["1", "2", "3", "4", "4", "4", "5", "6", "7"]
            .choose(rng)
            .copied();
        let grade = ["1", "2", "3", "3", "4", "4"].choose(rng).copied();
        (category.unwrap_or("4"), grade.unwrap_or("3"))
    });
    if codes.is_empty() {
        codes.push("1");
    }
    (codes.join(","), disability)
}
