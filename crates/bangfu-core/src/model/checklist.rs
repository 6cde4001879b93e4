//! The 贫困村退出 checklist items of a village's record: each item's 达标 flag (or rate), the
//! date it was met and its evidence, named once for the 村情 page, its checks and the exit check.

use chrono::NaiveDate;
use serde::Serialize;

use super::Village;

/// One item of the 贫困村退出 checklist and the village fields that record it.
#[derive(ts_rs::TS, Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct ChecklistItem {
    /// The item's code in the standard's `village_checklist` (`road`, `power` …).
    pub code: &'static str,
    /// What the forms call it.
    pub label: &'static str,
    /// The field saying whether it is met (for `broadcast` the coverage in %).
    pub met_field: &'static str,
    /// The field of its 达标日期.
    pub date_field: &'static str,
    /// The field of its 佐证材料.
    pub evidence_field: &'static str,
    /// Met by a rate reaching the standard's minimum rather than a 是/否.
    pub rate: bool,
}

const fn item(
    code: &'static str,
    label: &'static str,
    met_field: &'static str,
    date_field: &'static str,
    evidence_field: &'static str,
) -> ChecklistItem {
    ChecklistItem {
        code,
        label,
        met_field,
        date_field,
        evidence_field,
        rate: false,
    }
}

/// The checklist in the order of the 贫困村退出 forms.
pub const VILLAGE_CHECKLIST: [ChecklistItem; 8] = [
    item(
        "road",
        "通硬化路",
        "hardened_road",
        "road_date",
        "road_evidence",
    ),
    item(
        "power",
        "通动力电",
        "power_grid",
        "power_date",
        "power_evidence",
    ),
    ChecklistItem {
        rate: true,
        ..item(
            "broadcast",
            "广播电视覆盖",
            "broadcast_coverage",
            "broadcast_date",
            "broadcast_evidence",
        )
    },
    item(
        "broadband",
        "通宽带",
        "broadband",
        "broadband_date",
        "broadband_evidence",
    ),
    item(
        "water",
        "安全饮水",
        "safe_water",
        "water_date",
        "water_evidence",
    ),
    item(
        "clinic",
        "有标准化卫生室",
        "standard_clinic",
        "clinic_date",
        "clinic_evidence",
    ),
    item(
        "venue",
        "有综合性公共服务场所",
        "public_venue",
        "venue_date",
        "venue_evidence",
    ),
    item(
        "school",
        "义务教育就学有保障",
        "school_access",
        "school_date",
        "school_evidence",
    ),
];

/// What a village recorded for one checklist item.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ChecklistEntry<'a> {
    /// 是/否 (for a flag item); `None` when not filled.
    pub met: Option<bool>,
    /// The coverage in % (for the rate item).
    pub rate: Option<f64>,
    pub date: Option<NaiveDate>,
    pub evidence: &'a str,
}

impl Village {
    /// What the village recorded for `item`.
    pub fn checklist_entry(&self, item: &ChecklistItem) -> ChecklistEntry<'_> {
        let (met, date, evidence) = match item.code {
            "road" => (self.hardened_road, self.road_date, &self.road_evidence),
            "power" => (self.power_grid, self.power_date, &self.power_evidence),
            "broadcast" => (None, self.broadcast_date, &self.broadcast_evidence),
            "broadband" => (
                self.broadband,
                self.broadband_date,
                &self.broadband_evidence,
            ),
            "water" => (self.safe_water, self.water_date, &self.water_evidence),
            "clinic" => (
                self.standard_clinic,
                self.clinic_date,
                &self.clinic_evidence,
            ),
            "venue" => (self.public_venue, self.venue_date, &self.venue_evidence),
            _ => (self.school_access, self.school_date, &self.school_evidence),
        };
        ChecklistEntry {
            met,
            rate: if item.rate {
                self.broadcast_coverage
            } else {
                None
            },
            date,
            evidence,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Entity;

    #[test]
    fn every_item_names_fields_of_the_village_and_reads_its_own() {
        let names: Vec<&str> = Village::FIELDS.iter().map(|f| f.name).collect();
        let day = NaiveDate::from_ymd_opt(2019, 6, 1);
        for (n, item) in VILLAGE_CHECKLIST.iter().enumerate() {
            for field in [item.met_field, item.date_field, item.evidence_field] {
                assert!(names.contains(&field), "{} {field}", item.code);
            }
            // Only this item's date set: the entry reads exactly it.
            let mut fields: Vec<_> = Village::default().to_fields();
            for (name, value) in &mut fields {
                if *name == item.date_field {
                    *value = crate::model::FieldValue::Text("2019-06-01".into());
                }
            }
            let map: std::collections::HashMap<_, _> = fields.into_iter().collect();
            let v = Village::from_fields(uuid::Uuid::nil(), &mut |name| {
                map.get(name).cloned().unwrap_or_default()
            })
            .expect("fields of a default village");
            for (m, other) in VILLAGE_CHECKLIST.iter().enumerate() {
                let want = if m == n { day } else { None };
                assert_eq!(
                    v.checklist_entry(other).date,
                    want,
                    "{} via {}",
                    other.code,
                    item.code
                );
            }
        }
    }
}
