//! The cadres (帮扶责任人) of a village and who is paired with which household, including the
//! cadres who leave during the second year and hand their households to a successor.

use chrono::{Days, NaiveDate};
use rand::Rng;
use uuid::Uuid;

use super::{Gen, household::FILED_ON, names};
use crate::model::Helper;

/// One stretch of a cadre's responsibility for a household.
#[derive(Debug, Clone, Copy)]
pub struct Assignment {
    pub helper: Uuid,
    pub start: NaiveDate,
    pub end: Option<NaiveDate>,
}

/// A cadre who is transferred away, the day they leave and who takes over.
#[derive(Debug, Clone, Copy)]
struct Departure {
    leaving: usize,
    last_day: NaiveDate,
    successor: usize,
}

/// The cadres of one village.
#[derive(Debug)]
pub struct Roster {
    pub helpers: Vec<Helper>,
    initial: usize,
    departures: Vec<Departure>,
}

/// Names put in the cadres' units.
#[derive(Debug, Clone, Copy)]
pub struct Places<'a> {
    pub county: &'a str,
    pub township: &'a str,
    pub village: &'a str,
}

impl Roster {
    /// About one cadre per 13 households, and one in eight of them replaced in 2017.
    pub fn new(g: &mut Gen, households: usize, places: Places<'_>) -> Roster {
        let initial = households.div_ceil(13).max(1);
        let replaced = initial.div_ceil(8);
        let mut helpers = Vec::with_capacity(initial + replaced);
        for _ in 0..initial + replaced {
            helpers.push(helper(g, places));
        }
        let mut departures = Vec::with_capacity(replaced);
        let leavers = rand::seq::index::sample(&mut g.rng, initial, replaced);
        for (k, leaving) in leavers.into_iter().enumerate() {
            let last_day = FILED_ON + Days::new(400 + g.rng.gen_range(0..200));
            departures.push(Departure {
                leaving,
                last_day,
                successor: initial + k,
            });
        }
        Roster {
            helpers,
            initial,
            departures,
        }
    }

    /// Who helps the household at `index` of the village, over time.
    pub fn assignments(&self, index: usize) -> Vec<Assignment> {
        let first = index % self.initial;
        let id = |i: usize| self.helpers.get(i).map(|h| h.id).unwrap_or_default();
        match self.departures.iter().find(|d| d.leaving == first) {
            Some(d) => vec![
                Assignment {
                    helper: id(first),
                    start: FILED_ON,
                    end: Some(d.last_day),
                },
                Assignment {
                    helper: id(d.successor),
                    start: d.last_day + Days::new(1),
                    end: None,
                },
            ],
            None => vec![Assignment {
                helper: id(first),
                start: FILED_ON,
                end: None,
            }],
        }
    }
}

fn helper(g: &mut Gen, places: Places<'_>) -> Helper {
    let rng = &mut g.rng;
    let level = match rng.gen_range(0..100) {
        0..5 => "1",
        5..15 => "2",
        15..70 => "3",
        70..90 => "4",
        _ => "5",
    };
    let units = names::UNITS
        .iter()
        .find(|(l, _)| *l == level)
        .map_or(&[][..], |(_, u)| *u);
    let unit = units
        .get(rng.gen_range(0..units.len().max(1)))
        .copied()
        .unwrap_or("{county}扶贫开发办公室");
    let unit = unit
        .replace("{county}", places.county)
        .replace("{township}", places.township)
        .replace("{village}", places.village);
    let male = rng.gen_bool(0.65);
    let surname = names::surname(rng);
    let name = names::full_name(rng, surname, male);
    let title = names::title(rng, level);
    let phone = names::mobile(rng);
    Helper {
        id: g.row_id(FILED_ON),
        name,
        sex: if male { "1" } else { "2" }.into(),
        unit,
        unit_level: level.into(),
        title: title.into(),
        phone,
    }
}
