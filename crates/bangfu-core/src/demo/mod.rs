//! Demo and load-test data: a realistic village with a few deliberate data-quality problems,
//! and a synthetic county of any size. Everything is drawn from one seeded generator, row ids
//! included, so the same seed always gives the same data.

mod cadres;
mod county;
mod help;
mod household;
mod income;
mod names;
mod people;
mod policies;
mod recent;
mod village;

#[cfg(test)]
mod tests;

use std::collections::HashSet;

use chrono::{NaiveDate, NaiveTime};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::Serialize;
use uuid::Uuid;

use crate::model::{Entity, FieldValue};
use crate::store::{Change, Store, StoreError};

pub use county::{generate_county, generate_county_in};
pub use village::{DEMO_PROBLEMS, write_demo_village};

/// What a generator wrote.
#[derive(Debug, Clone, Default, Serialize)]
pub struct DemoSummary {
    pub villages: usize,
    pub households: usize,
    pub members: usize,
    pub helpers: usize,
    pub visits: usize,
    /// Ops appended to the op log.
    pub ops: u64,
}

/// The seeded source of every random choice, and the resident IDs handed out so far.
#[derive(Debug)]
pub(crate) struct Gen {
    pub rng: ChaCha8Rng,
    issued: HashSet<String>,
}

impl Gen {
    pub fn new(seed: u64) -> Gen {
        Gen {
            rng: ChaCha8Rng::seed_from_u64(seed),
            issued: HashSet::new(),
        }
    }

    /// A UUIDv7-shaped row id stamped with a daytime moment of `day` (Beijing time), its
    /// random part from the seeded generator, so ids repeat with the seed.
    pub fn row_id(&mut self, day: NaiveDate) -> Uuid {
        let midnight_utc = day.and_time(NaiveTime::MIN).and_utc().timestamp_millis();
        let offset: i64 = self.rng.gen_range(0..10 * 3_600_000); // 08:00-18:00 at UTC+8
        let ms = u64::try_from(midnight_utc + offset).unwrap_or(0);
        let random: [u8; 10] = self.rng.r#gen();
        uuid::Builder::from_unix_timestamp_millis(ms, &random).into_uuid()
    }

    /// A resident ID (GB 11643-1999) not handed out before: area code, birth date, a sequence
    /// whose last digit is odd for men, and the check character.
    pub fn resident_id(&mut self, area: &str, birth: NaiveDate, male: bool) -> String {
        let mut candidate = String::new();
        // 500 sequences per sex and birth date; a county of 400k people never runs out, and
        // the bound keeps the loop finite whatever the caller asks for.
        for _ in 0..1000 {
            let seq = self.rng.gen_range(0..50u32) * 10
                + 2 * self.rng.gen_range(0..5u32)
                + u32::from(male);
            let first17 = format!("{area}{}{seq:03}", birth.format("%Y%m%d"));
            candidate = format!("{first17}{}", check_char(&first17));
            if self.issued.insert(candidate.clone()) {
                break;
            }
        }
        candidate
    }
}

/// The GB 11643-1999 check character of the first 17 digits of a resident ID, from the same
/// code that validates IDs.
pub(crate) fn check_char(first17: &str) -> char {
    crate::validate::resident_id::check_character(first17).unwrap_or('0')
}

/// A bank card number with a valid Luhn digit, as issued by rural credit cooperatives.
pub(crate) fn bank_card(rng: &mut impl Rng) -> String {
    let mut digits = String::from("621779");
    for _ in 0..12 {
        digits.push(char::from(b'0' + rng.gen_range(0..10u8)));
    }
    let sum: u32 = digits
        .chars()
        .rev()
        .enumerate()
        .map(|(i, c)| {
            let d = c.to_digit(10).unwrap_or(0);
            if i % 2 == 0 {
                let doubled = d * 2;
                if doubled > 9 { doubled - 9 } else { doubled }
            } else {
                d
            }
        })
        .sum();
    digits.push(char::from(b'0' + ((10 - sum % 10) % 10) as u8));
    digits
}

/// The change that creates a new record. Empty fields are left out: on a new row they would
/// write nothing anyway, and skipping them saves the store a head lookup each.
pub(crate) fn create<E: Entity>(record: &E) -> Change {
    let fields = record
        .to_fields()
        .into_iter()
        .filter(|(_, v)| !matches!(v, FieldValue::Null) && *v != FieldValue::Text(String::new()))
        .collect();
    Change::Put {
        table: E::TABLE,
        id: record.id(),
        fields,
    }
}

/// Milliseconds of 09:00 Beijing time on a day, for the store's fixed clock.
pub(crate) fn clock_at(day: NaiveDate) -> u64 {
    let ms = day.and_time(NaiveTime::MIN).and_utc().timestamp_millis() + 3_600_000;
    u64::try_from(ms).unwrap_or(0)
}

/// Writes one batch and adds its ops to the summary.
pub(crate) fn write_batch(
    store: &mut Store,
    changes: &[Change],
    summary: &mut DemoSummary,
) -> Result<(), StoreError> {
    if changes.is_empty() {
        return Ok(());
    }
    summary.ops += store.write_unchecked(changes)?.ops;
    Ok(())
}
