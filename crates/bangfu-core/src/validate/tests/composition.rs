//! Tests of the county's 疑点 on who lives in a household: each rule fires on its case, stays
//! quiet on the plain family, and never refuses (warnings only).

use super::{date, head_id, household, id, member, today};
use crate::model::{Household, Member, Pairing};
use crate::validate::{Severity, check_composition};

fn spouse() -> Member {
    Member {
        name: "李秀英".into(),
        sex: "2".into(),
        id_number: id("530826", "19820305", "246"),
        relation: "02".into(),
        ..member()
    }
}

fn son() -> Member {
    Member {
        name: "张小明".into(),
        sex: "1".into(),
        id_number: id("530826", "20080910", "013"),
        relation: "03".into(),
        schooling: "09".into(),
        labor_skill: "4".into(),
        ..member()
    }
}

fn paired() -> Vec<Pairing> {
    vec![Pairing {
        helper_id: Some(uuid::Uuid::now_v7()),
        start_date: Some(date(2016, 3, 1)),
        ..Default::default()
    }]
}

fn rules(h: &Household, members: &[Member], pairings: &[Pairing]) -> Vec<&'static str> {
    let issues = check_composition(h, members, pairings, today());
    assert!(issues.iter().all(|i| i.severity == Severity::Warning));
    issues.into_iter().map(|i| i.rule).collect()
}

#[test]
fn a_plain_family_with_a_current_helper_has_no_finding() {
    assert_eq!(
        rules(&household(), &[member(), spouse(), son()], &paired()),
        Vec::<&str>::new()
    );
}

#[test]
fn each_rule_fires_on_its_case() {
    let h = household();
    let young_head = Member {
        id_number: id("530826", "20100101", "011"),
        labor_skill: "4".into(),
        ..member()
    };
    let old_son = Member {
        id_number: id("530826", "19700101", "013"),
        schooling: "00".into(),
        labor_skill: "1".into(),
        ..son()
    };
    let husband = Member {
        sex: "1".into(),
        id_number: id("530826", "19820305", "235"),
        ..spouse()
    };
    let adult_pupil = Member {
        schooling: "02".into(),
        ..spouse()
    };
    let child_worker = Member {
        schooling: "00".into(),
        labor_skill: "1".into(),
        id_number: id("530826", "20140101", "013"),
        ..son()
    };
    let on_dibao = Member {
        dibao: Some(true),
        ..spouse()
    };
    let cases: [(&str, Vec<Member>, &str); 6] = [
        ("young head", vec![young_head], "suspect.head_under_16"),
        (
            "son older than head",
            vec![member(), old_son],
            "suspect.child_older_than_head",
        ),
        (
            "spouse of the same sex",
            vec![member(), husband],
            "suspect.spouse_same_sex",
        ),
        (
            "adult at primary school",
            vec![member(), adult_pupil],
            "suspect.schooling_age",
        ),
        (
            "child as labour",
            vec![member(), child_worker],
            "suspect.labor_skill_age",
        ),
        (
            "dibao member",
            vec![member(), on_dibao],
            "suspect.dibao_member_not_dibao_household",
        ),
    ];
    for (what, members, rule) in cases {
        let found = rules(&h, &members, &paired());
        assert!(found.contains(&rule), "{what}: {found:?}");
    }
    // A 低保 household may have members on 低保.
    let dibao_household = Household {
        attribute: "2".into(),
        ..household()
    };
    let on_dibao = Member {
        dibao: Some(true),
        ..spouse()
    };
    assert!(rules(&dibao_household, &[member(), on_dibao.clone()], &paired()).is_empty());
    // 低保应保尽保: a 低保 household with nobody on 低保 (a member who left does not count).
    let left_on_dibao = Member {
        leave_date: Some(date(2019, 5, 12)),
        leave_reason: "1".into(),
        ..on_dibao
    };
    assert_eq!(
        rules(&dibao_household, &[member(), spouse()], &paired()),
        ["suspect.dibao_household_without_dibao_member"]
    );
    assert_eq!(
        rules(&dibao_household, &[member(), left_on_dibao], &paired()),
        ["suspect.dibao_household_without_dibao_member"]
    );
}

#[test]
fn helpers_and_houses_are_judged_by_the_status() {
    let h = household();
    let ended = vec![Pairing {
        end_date: Some(date(2020, 1, 1)),
        ..paired()[0].clone()
    }];
    assert_eq!(rules(&h, &[member()], &[]), ["suspect.no_current_helper"]);
    assert_eq!(
        rules(&h, &[member()], &ended),
        ["suspect.no_current_helper"]
    );
    let exited_in_danger = Household {
        poverty_status: "3".into(),
        danger_level: "D".into(),
        ..household()
    };
    assert_eq!(
        rules(&exited_in_danger, &[member()], &[]),
        ["suspect.exited_in_unsafe_house"],
        "an exited household needs no helper, but its house must be safe"
    );
    assert!(head_id().len() == 18);
}
