//! What a help-contact card shows, gathered from the store: the household, its current cadre,
//! the year's measures and targets. The same [`HelpCard`] feeds the PDF and a preview screen.

use std::collections::{HashMap, HashSet};

use chrono::{Datelike, NaiveDate};
use serde::Serialize;
use uuid::Uuid;

use super::{CardConfig, CardError, CardRequest};
use crate::model::codes::{self, CodeList};
use crate::model::{Helper, Household, Measure, Member, Pairing, TeamMember, Village};
use crate::store::{Filter, Store};

/// The cadre on a card (帮扶责任人).
#[derive(ts_rs::TS, Debug, Clone, Default, PartialEq, Serialize)]
pub struct CardCadre {
    pub name: String,
    pub unit: String,
    pub title: String,
    pub phone: String,
}

/// A member of the village's 驻村工作队 on a card (第一书记 first).
#[derive(ts_rs::TS, Debug, Clone, Default, PartialEq, Serialize)]
pub struct CardTeamMember {
    /// 队内职务 as the forms say it: 第一书记, 工作队长, 工作队员 ….
    pub role: String,
    pub name: String,
    pub unit: String,
    pub phone: String,
}

/// One line of the card's 帮扶措施.
#[derive(ts_rs::TS, Debug, Clone, Default, PartialEq, Serialize)]
pub struct CardMeasure {
    /// 帮扶措施类别 as the form words it, e.g. 发展产业.
    pub path: String,
    pub description: String,
    /// 金额 in 元, formatted ("6000"), empty when none.
    pub amount: String,
    /// 落实情况.
    pub status: String,
}

/// Everything one card shows, in the words printed on it.
#[derive(ts_rs::TS, Debug, Clone, Default, PartialEq, Serialize)]
pub struct HelpCard {
    pub household_id: Uuid,
    pub household_code: String,
    /// 户主姓名; "未登记户主" when the household has none on file.
    pub head_name: String,
    pub address: String,
    /// 县 乡镇 村, for the line under the title.
    pub place: String,
    pub family_size: usize,
    /// 贫困户属性.
    pub attribute: String,
    /// 主要致贫原因 first, then the others.
    pub causes: Vec<String>,
    /// The current cadre: an open pairing (latest start), else the latest pairing.
    pub cadre: Option<CardCadre>,
    /// The village's 驻村工作队 serving on the day the card is printed, 第一书记 first; empty
    /// when the village has none on file (the card then has no team row).
    pub team: Vec<CardTeamMember>,
    /// The year of the measures shown.
    pub year: Option<i64>,
    pub measures: Vec<CardMeasure>,
    /// 帮扶目标 of those measures, each once.
    pub targets: Vec<String>,
    /// 发展意向.
    pub development_intent: String,
    /// 监督举报电话.
    pub hotline: String,
    pub printed_on: NaiveDate,
    /// What the QR code holds: the household code.
    pub qr_text: String,
    /// The QR code's modules, one string per row, `1` dark and `0` light (no quiet zone), so
    /// that the preview shows the symbol the paper gets. Empty if it cannot be encoded.
    pub qr_rows: Vec<String>,
}

/// The words on a card for a household without a 户主 row.
pub const NO_HEAD: &str = "未登记户主";

/// The cards a request asks for, ordered by household code.
pub fn help_cards(store: &Store, request: &CardRequest) -> Result<Vec<HelpCard>, CardError> {
    let households = households_of(store, request)?;
    let context = Context::load(store)?;
    let printed_on = request.printed_on.unwrap_or_else(|| store.today());
    households
        .iter()
        .map(|h| context.card(store, h, &request.config, request.year, printed_on))
        .collect()
}

/// The households a request names, by code.
pub(crate) fn households_of(
    store: &Store,
    request: &CardRequest,
) -> Result<Vec<Household>, CardError> {
    let mut households = store.read::<Household>(Filter::All)?;
    if let Some(code) = &request.village {
        let villages: Vec<Uuid> = store
            .read::<Village>(Filter::All)?
            .into_iter()
            .filter(|v| v.code == *code)
            .map(|v| v.id)
            .collect();
        if villages.is_empty() {
            return Err(CardError::VillageNotFound { code: code.clone() });
        }
        households.retain(|h| h.village_id.is_some_and(|v| villages.contains(&v)));
    }
    if !request.household_ids.is_empty() {
        // A list screen may pass a whole county's households: a set, not a scan per household.
        let wanted: HashSet<Uuid> = request.household_ids.iter().copied().collect();
        households.retain(|h| wanted.contains(&h.id));
    }
    if let Some(code) = &request.household {
        households.retain(|h| h.code == *code);
        match households.len() {
            0 => return Err(CardError::HouseholdNotFound { code: code.clone() }),
            1 => {}
            count => {
                return Err(CardError::DuplicateHousehold {
                    code: code.clone(),
                    count,
                });
            }
        }
    }
    if households.is_empty() {
        return Err(CardError::NothingToPrint);
    }
    households.sort_by(|a, b| a.code.cmp(&b.code));
    Ok(households)
}

/// Rows shared by many cards, read once per print.
pub(crate) struct Context {
    helpers: HashMap<Uuid, Helper>,
    villages: HashMap<Uuid, Village>,
    /// Each village's 驻村工作队, past members included.
    teams: HashMap<Uuid, Vec<TeamMember>>,
}

impl Context {
    pub fn load(store: &Store) -> Result<Context, CardError> {
        let mut teams: HashMap<Uuid, Vec<TeamMember>> = HashMap::new();
        for m in store.read::<TeamMember>(Filter::All)? {
            if let Some(village) = m.village_id {
                teams.entry(village).or_default().push(m);
            }
        }
        Ok(Context {
            helpers: by_id(store.read::<Helper>(Filter::All)?, |h| h.id),
            villages: by_id(store.read::<Village>(Filter::All)?, |v| v.id),
            teams,
        })
    }

    /// The village's team serving on `day`, 第一书记 first, then by 驻村日期.
    pub fn team_on(&self, village: Option<Uuid>, day: NaiveDate) -> Vec<CardTeamMember> {
        let mut team: Vec<&TeamMember> = village
            .and_then(|v| self.teams.get(&v))
            .map(|t| {
                t.iter()
                    .filter(|m| crate::team::serving_on(m, day))
                    .collect()
            })
            .unwrap_or_default();
        team.sort_by(|a, b| {
            (&a.role, a.start_date, &a.name).cmp(&(&b.role, b.start_date, &b.name))
        });
        team.into_iter()
            .map(|m| CardTeamMember {
                role: label(&codes::TEAM_ROLE, &m.role),
                name: m.name.clone(),
                unit: m.unit.clone(),
                phone: m.phone.clone(),
            })
            .collect()
    }

    pub fn helper(&self, id: Option<Uuid>) -> Option<&Helper> {
        id.and_then(|id| self.helpers.get(&id))
    }

    pub fn card(
        &self,
        store: &Store,
        h: &Household,
        config: &CardConfig,
        year: Option<i64>,
        printed_on: NaiveDate,
    ) -> Result<HelpCard, CardError> {
        // The card hangs in the home now: today's members only.
        let members: Vec<Member> = store
            .read::<Member>(Filter::OfHousehold(h.id))?
            .into_iter()
            .filter(crate::model::derived::is_current)
            .collect();
        let pairings = store.read::<Pairing>(Filter::OfHousehold(h.id))?;
        let measures = store.read::<Measure>(Filter::OfHousehold(h.id))?;
        let village = h.village_id.and_then(|v| self.villages.get(&v));
        let county = if config.county_name.is_empty() {
            village.map(|v| v.county.clone()).unwrap_or_default()
        } else {
            config.county_name.clone()
        };
        let place = village.map_or_else(
            || county.clone(),
            |v| format!("{county}{}{}", v.township, v.name),
        );
        let head_name = members
            .iter()
            .find(|m| m.relation == codes::RELATION_HEAD)
            .map_or_else(|| NO_HEAD.to_owned(), |m| m.name.clone());
        let mut causes = vec![label(&codes::POVERTY_CAUSE, &h.main_cause)];
        causes.extend(
            h.other_causes
                .split(',')
                .filter(|c| !c.trim().is_empty())
                .map(|c| label(&codes::POVERTY_CAUSE, c.trim())),
        );
        causes.retain(|c| !c.is_empty());
        let year = year.or_else(|| measures.iter().filter_map(|m| m.year).max());
        let of_year: Vec<&Measure> = measures.iter().filter(|m| m.year == year).collect();
        let mut targets: Vec<String> = Vec::new();
        for m in &of_year {
            let t = m.target.trim();
            if !t.is_empty() && !targets.iter().any(|x| x == t) {
                targets.push(t.to_owned());
            }
        }
        Ok(HelpCard {
            household_id: h.id,
            household_code: h.code.clone(),
            head_name,
            address: if h.address.is_empty() {
                place.clone()
            } else {
                h.address.clone()
            },
            place,
            family_size: crate::model::derived::family_size(&members),
            attribute: label(&codes::HOUSEHOLD_ATTRIBUTE, &h.attribute),
            causes,
            cadre: current_pairing(&pairings)
                .and_then(|p| self.helper(p.helper_id))
                .map(|c| CardCadre {
                    name: c.name.clone(),
                    unit: c.unit.clone(),
                    title: c.title.clone(),
                    phone: c.phone.clone(),
                }),
            team: self.team_on(h.village_id, printed_on),
            year,
            measures: of_year
                .iter()
                .map(|m| CardMeasure {
                    path: label(&codes::MEASURE_PATH, &m.path),
                    description: m.description.clone(),
                    // A structured measure shows its 应发金额.
                    amount: m
                        .amount
                        .or(m.amount_due)
                        .map(format_amount)
                        .unwrap_or_default(),
                    status: label(&codes::MEASURE_STATUS, &m.status),
                })
                .collect(),
            targets,
            development_intent: h.development_intent.clone(),
            hotline: config.hotline.clone(),
            printed_on,
            qr_text: h.code.clone(),
            qr_rows: super::qr::QrMatrix::encode(&h.code)
                .map(|qr| qr.rows())
                .unwrap_or_default(),
        })
    }
}

/// The current pairing: an open one with the latest start, else the latest start of all.
pub(crate) fn current_pairing(pairings: &[Pairing]) -> Option<&Pairing> {
    let latest = |open: bool| {
        pairings
            .iter()
            .filter(|p| !open || p.end_date.is_none())
            .max_by_key(|p| p.start_date)
    };
    latest(true).or_else(|| latest(false))
}

/// A code's label; a code missing from the list is printed as stored rather than dropped.
fn label(list: &CodeList, code: &str) -> String {
    list.label(code)
        .map_or_else(|| code.to_owned(), str::to_owned)
}

/// 元 without a trailing ".0" for whole amounts, as written on forms.
pub(crate) fn format_amount(amount: f64) -> String {
    if amount.fract() == 0.0 && amount.abs() < 1e15 {
        format!("{}", amount as i64)
    } else {
        format!("{amount:.2}")
    }
}

/// The date as the forms write it: 2024年5月3日.
pub(crate) fn date_zh(d: NaiveDate) -> String {
    format!("{}年{}月{}日", d.year(), d.month(), d.day())
}

fn by_id<T>(rows: Vec<T>, id: impl Fn(&T) -> Uuid) -> HashMap<Uuid, T> {
    rows.into_iter().map(|r| (id(&r), r)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pairing(start: (i32, u32), end: Option<(i32, u32)>) -> Pairing {
        let day = |(y, m): (i32, u32)| NaiveDate::from_ymd_opt(y, m, 1);
        Pairing {
            id: Uuid::now_v7(),
            start_date: day(start),
            end_date: end.and_then(day),
            ..Default::default()
        }
    }

    #[test]
    fn the_current_cadre_is_the_open_pairing_else_the_latest() {
        // (pairings as (start, end) months, index of the current one)
        type Case = (&'static [((i32, u32), Option<(i32, u32)>)], Option<usize>);
        let cases: &[Case] = &[
            (&[], None),
            (&[((2016, 3), None)], Some(0)),
            // A cadre change: the old pairing ended, the new one is open.
            (&[((2016, 3), Some((2017, 5))), ((2017, 5), None)], Some(1)),
            // An open pairing wins over a later one that already ended.
            (&[((2016, 3), None), ((2017, 5), Some((2017, 9)))], Some(0)),
            // Two open (a merge of two laptops): the latest start.
            (&[((2017, 5), None), ((2016, 3), None)], Some(0)),
            // All ended: the latest start.
            (
                &[((2016, 3), Some((2017, 1))), ((2017, 1), Some((2018, 1)))],
                Some(1),
            ),
        ];
        for (rows, expected) in cases {
            let pairings: Vec<Pairing> = rows.iter().map(|(s, e)| pairing(*s, *e)).collect();
            let got = current_pairing(&pairings).map(|p| p.id);
            assert_eq!(got, expected.map(|i| pairings[i].id), "{rows:?}");
        }
    }

    #[test]
    fn amounts_and_dates_read_as_on_the_forms() {
        assert_eq!(format_amount(6000.0), "6000");
        assert_eq!(format_amount(1234.5), "1234.50");
        assert_eq!(
            date_zh(NaiveDate::from_ymd_opt(2017, 3, 9).unwrap()),
            "2017年3月9日"
        );
    }
}
