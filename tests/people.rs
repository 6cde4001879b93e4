//! One person, however the number was typed (issue 16): an 18-digit ID, the same with a
//! lower-case `x`, or the 20-digit 残疾人证 number that carries it, filed in two households is
//! one duplicate in the page's check, the quality list and the import's count.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use bangfu_core::filing::HouseholdFile;
use bangfu_core::model::{Household, Member};
use bangfu_core::report::quality::data_quality;
use bangfu_core::sync::exchange::duplicate_counts;
use uuid::Uuid;

fn household(seq: u32, id_number: &str) -> HouseholdFile {
    let household = Household {
        id: Uuid::now_v7(),
        code: format!("530826103201{seq:03}"),
        identify_standard: "1".into(),
        attribute: "1".into(),
        poverty_status: "1".into(),
        main_cause: "01".into(),
        address: "一组".into(),
        ..Default::default()
    };
    HouseholdFile {
        members: vec![Member {
            id: Uuid::now_v7(),
            household_id: Some(household.id),
            name: "王秀英".into(),
            relation: "01".into(),
            sex: "2".into(),
            id_number: id_number.into(),
            ..Default::default()
        }],
        household,
        ..Default::default()
    }
}

#[test]
fn a_disability_card_and_a_lower_case_x_are_the_same_person_in_every_duplicate_check() {
    let dir = common::scratch();
    let mut store = common::open_at(dir.path(), "村", 1_700_000_000_000);
    store
        .file_household(&household(1, "11010519491231002X"))
        .unwrap();
    // The 残疾人证 number of the same woman, in another household: the page says so.
    let second = store
        .file_household(&household(2, "11010519491231002X21"))
        .unwrap();
    assert!(
        second
            .warnings
            .iter()
            .any(|w| w.rule == "resident_id.filed_elsewhere"),
        "the page flags the card number: {:?}",
        second.warnings
    );
    let (people, _) = duplicate_counts(&store).unwrap();
    assert_eq!(people, 1, "one person filed twice");
    let quality = data_quality(&store).unwrap();
    let flagged: Vec<&str> = quality
        .iter()
        .filter(|q| q.rule == "resident_id.filed_elsewhere")
        .map(|q| q.household_code.as_str())
        .collect();
    assert_eq!(flagged.len(), 2, "both households listed: {flagged:?}");
}
