//! A synthetic county of any size for load tests: villages of about 300 households grouped ten
//! to a township, written in transactions of 500 households.

use std::collections::HashSet;

use chrono::NaiveDate;
use rand::Rng;

use super::cadres::{Places, Roster};
use super::household::{Fixed, VillageInfo, file_household};
use super::{DemoSummary, Gen, clock_at, create, names, write_batch};
use crate::model::Village;
use crate::store::{Store, StoreError};

/// The county's 统计用区划代码, apart from the demo village's county so both can share a file
/// without sharing resident IDs.
const COUNTY_AREA: &str = "530828";
const PER_VILLAGE: usize = 300;
const VILLAGES_PER_TOWNSHIP: usize = 10;
const BATCH: usize = 500;

/// Writes `households` households with about four members and ten visits each, calling
/// `progress` with the number of households written after each transaction.
pub fn generate_county(
    store: &mut Store,
    households: usize,
    seed: u64,
    progress: &mut dyn FnMut(usize),
) -> Result<DemoSummary, StoreError> {
    generate_county_in(store, COUNTY_AREA, households, seed, progress)
}

/// [`generate_county`] in the county of 6-digit code `area` (its villages' codes start with
/// it): several counties of a province, each generated into its own copy.
pub fn generate_county_in(
    store: &mut Store,
    area: &str,
    households: usize,
    seed: u64,
    progress: &mut dyn FnMut(usize),
) -> Result<DemoSummary, StoreError> {
    let mut g = Gen::new(seed);
    let mut summary = DemoSummary::default();
    let entered_on = NaiveDate::from_ymd_opt(2018, 1, 5).unwrap_or_default();
    store.set_fixed_clock(clock_at(entered_on));
    let county = format!("{}县", names::place_name(&mut g.rng));
    let village_count = households.div_ceil(PER_VILLAGE);
    let mut used_names = HashSet::new();
    let mut township = String::new();
    let mut changes = Vec::new();
    let mut in_batch = 0;
    for v in 0..village_count {
        let (t, j) = (v / VILLAGES_PER_TOWNSHIP, v % VILLAGES_PER_TOWNSHIP);
        if j == 0 {
            let suffix = if g.rng.gen_bool(0.6) { "镇" } else { "乡" };
            township = unique_place(&mut g, &mut used_names, suffix);
        }
        let name = unique_place(&mut g, &mut used_names, "村");
        let size = households / village_count + usize::from(v < households % village_count);
        let village = Village {
            id: g.row_id(super::household::FILED_ON),
            code: format!("{area}{:03}{:03}", 101 + t, 201 + j),
            name: name.clone(),
            township: township.clone(),
            county: county.clone(),
            province: "云南省".into(),
            rural_population: Some((size as i64) * g.rng.gen_range(10..16)),
            // The village exit checklist is filled by the work team, not generated.
            ..Default::default()
        };
        let info = VillageInfo {
            id: village.id,
            code: village.code.clone(),
            address: format!("{county}{township}{name}"),
            township: township.clone(),
        };
        let places = Places {
            county: &county,
            township: &township,
            village: &name,
        };
        let roster = Roster::new(&mut g, size, places);
        changes.push(create(&village));
        changes.extend(roster.helpers.iter().map(create));
        summary.villages += 1;
        summary.helpers += roster.helpers.len();
        for index in 0..size {
            let visits = g.rng.gen_range(8..=12);
            let f = file_household(
                &mut g,
                &info,
                index + 1,
                &roster.assignments(index),
                visits,
                Fixed::default(),
            );
            f.changes(&mut changes);
            summary.households += 1;
            summary.members += f.members.len();
            summary.visits += f.visits.len();
            in_batch += 1;
            if in_batch == BATCH {
                write_batch(store, &changes, &mut summary)?;
                changes.clear();
                in_batch = 0;
                progress(summary.households);
            }
        }
    }
    if !changes.is_empty() {
        write_batch(store, &changes, &mut summary)?;
        progress(summary.households);
    }
    Ok(summary)
}

/// A place name not used yet in this county, with its suffix; after a bounded number of
/// draws a number is added, which real registers also do (新寨一村, 新寨二村).
fn unique_place(g: &mut Gen, used: &mut HashSet<String>, suffix: &str) -> String {
    for _ in 0..20 {
        let name = format!("{}{suffix}", names::place_name(&mut g.rng));
        if used.insert(name.clone()) {
            return name;
        }
    }
    let name = format!("{}{}{suffix}", names::place_name(&mut g.rng), used.len());
    used.insert(name.clone());
    name
}
