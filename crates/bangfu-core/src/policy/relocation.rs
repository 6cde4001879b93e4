//! 易地扶贫搬迁 progress: the stages a relocated household's new house reached at its 安置点
//! (开工, 基础, 主体, 竣工, 入住), each dated, with any loan taken. A stage is a row of its own
//! (`relocation`, written through `Store::write`), so stages recorded on two laptops both stay.
//! The household page's 易地扶贫搬迁 box (`household_relocation`) shows them and records the
//! next one; a stage already recorded, or dated out of order with those recorded, is refused.
//! 入住 at a 安置点 in another village offers the household's move there (`MoveOffer`, the
//! integrity issue's `moving::move_household`); the move is never made without the person.
//! The 安置点's village is kept on the stage that named it (`Relocation::site_village`), so the
//! box shows it and offers the move again for as long as the household is filed elsewhere.
//!
//! A household that reached 入住 before the village was asked (schema 20) has none: nothing
//! in the data says it for sure (a move after 入住 may have had another reason; two 安置点 may
//! share a name), so none is filled in for it. The box shows it as 未填 and asks for it
//! (`set_site_village`), naming the village the other households of the same 安置点 named when
//! they all agree, as a hint a person takes or not; the 易地搬迁台帐 says 未填 too.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::PolicyError;
use crate::access::Permission;
use crate::model::{Household, Measure, Relocation, Village, codes};
use crate::moving::{self, MoveError};
use crate::store::{Filter, Store, StoreError};

/// A stage to record.
#[derive(ts_rs::TS, Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NewStage {
    pub household_id: Uuid,
    /// 安置点.
    pub site: String,
    /// Code of `relocation_stage`.
    pub stage: String,
    pub stage_date: NaiveDate,
    /// 贷款金额 taken at this stage.
    pub loan: Option<f64>,
    #[serde(default)]
    pub note: String,
    /// The 12-digit code of the village the 安置点 is in, when it is known; at 入住 in another
    /// village than the household's, the move there is offered ([`RecordedStage::move_offer`]).
    #[serde(default)]
    #[ts(optional)]
    pub site_village: Option<String>,
}

/// A stage recorded, and the move it makes due.
#[derive(ts_rs::TS, Debug, Clone, PartialEq, Serialize)]
pub struct RecordedStage {
    pub id: Uuid,
    /// 入住 at a 安置点 in another village: the move to offer (not made).
    pub move_offer: Option<MoveOffer>,
}

/// Moving a household that moved into its new house in another village: what the person is
/// asked before `moving::move_household` is called.
#[derive(ts_rs::TS, Debug, Clone, PartialEq, Serialize)]
pub struct MoveOffer {
    pub household_id: Uuid,
    /// 户编号 now.
    pub household_code: String,
    /// The household's village now (its name; empty when it has none).
    pub from_village: String,
    /// The 安置点's village: its 12-digit code and its name.
    pub to_village_code: String,
    pub to_village_name: String,
    /// The 户编号 the household would take there (the lowest free sequence).
    pub new_code: String,
    pub site: String,
}

/// The move to offer for a household settled at a 安置点 of the village with `village_code`;
/// none when that is the household's own village. An unknown village code is refused.
pub fn move_offer(
    store: &Store,
    household: Uuid,
    village_code: &str,
    site: &str,
) -> Result<Option<MoveOffer>, PolicyError> {
    let h = match store.get::<Household>(household) {
        Ok(h) => h,
        Err(StoreError::NotFound { .. }) => {
            return Err(PolicyError::HouseholdNotFound { id: household });
        }
        Err(e) => return Err(e.into()),
    };
    let to = moving::village_by_code(store, village_code.trim())?;
    if h.village_id == Some(to.id) {
        return Ok(None);
    }
    let from_village = match h.village_id.map(|id| store.get::<Village>(id)) {
        Some(Ok(v)) => v.name,
        Some(Err(StoreError::NotFound { .. })) | None => String::new(),
        Some(Err(e)) => return Err(e.into()),
    };
    Ok(Some(MoveOffer {
        household_id: household,
        household_code: h.code,
        from_village,
        new_code: moving::free_code(store, &to.code)?,
        to_village_code: to.code,
        to_village_name: to.name,
        site: site.trim().to_owned(),
    }))
}

/// Records a stage of a household's relocation; its row id. The store checks the 安置点, the
/// stage, the day and the loan as the page does; a stage the household already has, or a day
/// before a stage recorded earlier in the order (or after one later in it), is refused.
pub fn record_stage(store: &mut Store, input: &NewStage) -> Result<RecordedStage, PolicyError> {
    store.require(Permission::FileHouseholds)?;
    match store.get::<Household>(input.household_id) {
        Ok(_) => {}
        Err(StoreError::NotFound { .. }) => {
            return Err(PolicyError::HouseholdNotFound {
                id: input.household_id,
            });
        }
        Err(e) => return Err(e.into()),
    }
    let recorded = store.read::<Relocation>(Filter::OfHousehold(input.household_id))?;
    if let Some(same) = recorded.iter().find(|r| r.stage == input.stage) {
        return Err(PolicyError::StageRecorded {
            stage: stage_label(&same.stage),
            date: same.stage_date,
        });
    }
    for r in &recorded {
        let Some(date) = r.stage_date else { continue };
        let earlier_stage = r.stage < input.stage;
        let out_of_order = if earlier_stage {
            input.stage_date < date
        } else {
            input.stage_date > date
        };
        if out_of_order {
            return Err(PolicyError::StageOutOfOrder {
                stage: stage_label(&input.stage),
                date: input.stage_date,
                other: stage_label(&r.stage),
                other_date: date,
                other_is_earlier: earlier_stage,
            });
        }
    }
    // The 安置点's village is checked before anything is written; the move is offered at 入住.
    let site_village = input
        .site_village
        .as_deref()
        .map(str::trim)
        .filter(|c| !c.is_empty());
    let offer = match site_village {
        Some(code) => move_offer(store, input.household_id, code, &input.site)?,
        None => None,
    };
    let row = Relocation {
        id: Uuid::now_v7(),
        household_id: Some(input.household_id),
        site: input.site.trim().to_owned(),
        stage: input.stage.clone(),
        stage_date: Some(input.stage_date),
        loan: input.loan,
        note: input.note.clone(),
        site_village: site_village.unwrap_or_default().to_owned(),
    };
    store.put(&row)?;
    Ok(RecordedStage {
        id: row.id,
        move_offer: offer.filter(|_| input.stage == MOVED_IN_STAGE),
    })
}

/// The 易地扶贫搬迁 box after it recorded a stage, and the move to offer.
#[derive(ts_rs::TS, Debug, Clone, PartialEq, Serialize)]
pub struct StageSaved {
    pub relocation: HouseholdRelocation,
    pub move_offer: Option<MoveOffer>,
}

/// Records a stage from the household page's box ([`record_stage`]) and returns the box as it
/// now stands with the move to offer, if any.
pub fn record_stage_for_page(
    store: &mut Store,
    input: &NewStage,
) -> Result<StageSaved, PolicyError> {
    let recorded = record_stage(store, input)?;
    Ok(StageSaved {
        relocation: household_relocation(store, input.household_id)?,
        move_offer: recorded.move_offer,
    })
}

/// The stage at which a household lives at its 安置点 (入住).
const MOVED_IN_STAGE: &str = "5";

/// Where a household's relocation stands.
#[derive(ts_rs::TS, Debug, Clone, PartialEq, Serialize)]
pub struct RelocationProgress {
    /// The 安置点 of its latest stage.
    pub site: String,
    /// The furthest stage reached, as the forms say it.
    pub stage: String,
    pub stage_date: Option<NaiveDate>,
    /// Every stage recorded, in order: (stage, date).
    pub stages: Vec<(String, Option<NaiveDate>)>,
    /// 贷款金额 over all stages (元).
    pub loans: f64,
}

/// The household's relocation progress; `None` when no stage is recorded.
pub fn relocation_progress(
    store: &Store,
    household: Uuid,
) -> Result<Option<RelocationProgress>, PolicyError> {
    let mut rows = store.read::<Relocation>(Filter::OfHousehold(household))?;
    rows.sort_by(|a, b| (&a.stage, a.stage_date).cmp(&(&b.stage, b.stage_date)));
    let Some(last) = rows.last() else {
        return Ok(None);
    };
    let label = stage_label;
    Ok(Some(RelocationProgress {
        site: last.site.clone(),
        stage: label(&last.stage),
        stage_date: last.stage_date,
        stages: rows
            .iter()
            .map(|r| (label(&r.stage), r.stage_date))
            .collect(),
        loans: rows.iter().filter_map(|r| r.loan).sum(),
    }))
}

/// A stage as the forms say it (开工 …); an unknown code as it is.
fn stage_label(code: &str) -> String {
    codes::RELOCATION_STAGE
        .label(code)
        .unwrap_or(code)
        .to_owned()
}

/// One recorded stage as the household page lists it.
#[derive(ts_rs::TS, Debug, Clone, PartialEq, Serialize)]
pub struct StageLine {
    pub id: Uuid,
    /// Code of `relocation_stage`.
    pub stage: String,
    /// The stage as the forms say it (开工 …).
    pub label: String,
    pub site: String,
    #[ts(type = "string | null")]
    pub stage_date: Option<NaiveDate>,
    pub loan: Option<f64>,
    pub note: String,
}

/// The village a 安置点 lies in, as the box names it.
#[derive(ts_rs::TS, Debug, Clone, PartialEq, Serialize)]
pub struct SiteVillage {
    /// Its 12-digit 村代码.
    pub code: String,
    /// Its name; empty when this copy holds no village of that code (a village's laptop holds
    /// only its own).
    pub name: String,
}

/// The household page's 易地扶贫搬迁 box.
#[derive(ts_rs::TS, Debug, Clone, PartialEq, Serialize)]
pub struct HouseholdRelocation {
    /// Whether relocation concerns the household: a 易地扶贫搬迁 measure (any year) or a stage
    /// recorded. The page shows the box for these and offers to start one for the others.
    pub relevant: bool,
    /// The 安置点 of its latest stage; empty before any.
    pub site: String,
    /// Every stage recorded, in the order of the stages.
    pub stages: Vec<StageLine>,
    /// The code of the first stage not recorded yet; none once 入住 is.
    pub next_stage: Option<String>,
    /// 贷款金额 over all stages (元).
    pub loans: f64,
    /// Whether the person signed in may record a stage.
    pub editable: bool,
    /// The village of the 安置点, from the latest stage that named one; none before.
    pub site_village: Option<SiteVillage>,
    /// 入住 is recorded at a 安置点 of another village than the one the household is filed in:
    /// the move to offer again ("暂不迁移" at 入住 leaves it here); none once it moved there.
    pub move_offer: Option<MoveOffer>,
    /// 入住 is recorded and no stage names the 安置点's village (recorded before it was asked):
    /// the box shows 未填 and asks for it.
    pub site_village_missing: bool,
    /// For a missing village: the one every other household's stage at the same 安置点 names,
    /// when they agree on one; a hint for the person, never filled in by itself.
    pub site_village_hint: Option<SiteVillageHint>,
}

/// The village the other households of the same 安置点 named, and how many households did.
#[derive(ts_rs::TS, Debug, Clone, PartialEq, Serialize)]
pub struct SiteVillageHint {
    pub village: SiteVillage,
    pub households: u32,
}

/// The household's relocation as its page shows it.
pub fn household_relocation(
    store: &Store,
    household: Uuid,
) -> Result<HouseholdRelocation, PolicyError> {
    let mut rows = store.read::<Relocation>(Filter::OfHousehold(household))?;
    rows.sort_by(|a, b| (&a.stage, a.stage_date).cmp(&(&b.stage, b.stage_date)));
    let relocating = store
        .read::<Measure>(Filter::OfHousehold(household))?
        .iter()
        .any(|m| m.path == RELOCATION_PATH);
    let editable = match store.require(Permission::FileHouseholds) {
        Ok(()) => true,
        Err(StoreError::Access(_)) => false,
        Err(other) => return Err(other.into()),
    };
    let next_stage = codes::RELOCATION_STAGE
        .entries
        .iter()
        .map(|(code, _)| *code)
        .find(|code| !rows.iter().any(|r| r.stage == *code))
        .map(str::to_owned);
    let site = rows.last().map(|r| r.site.clone()).unwrap_or_default();
    let site_village = match rows
        .iter()
        .rev()
        .map(|r| r.site_village.trim())
        .find(|code| !code.is_empty())
    {
        Some(code) => Some(site_village_named(store, code)?),
        None => None,
    };
    let moved_in = rows.iter().any(|r| r.stage == MOVED_IN_STAGE);
    let site_village_missing = moved_in && site_village.is_none();
    let site_village_hint = if site_village_missing {
        site_village_hint(store, household, &site)?
    } else {
        None
    };
    let move_offer = match &site_village {
        Some(v) if moved_in && !v.name.is_empty() => {
            match move_offer(store, household, &v.code, &site) {
                Ok(offer) => offer,
                // A village whose code two rows share, or that has no 户编号 left, cannot be
                // moved into: the box names the village without the offer.
                Err(PolicyError::Move(
                    MoveError::AmbiguousVillage { .. } | MoveError::NoFreeCode { .. },
                )) => None,
                Err(e) => return Err(e),
            }
        }
        _ => None,
    };
    Ok(HouseholdRelocation {
        relevant: relocating || !rows.is_empty(),
        site,
        loans: rows.iter().filter_map(|r| r.loan).sum(),
        stages: rows
            .into_iter()
            .map(|r| StageLine {
                id: r.id,
                label: stage_label(&r.stage),
                stage: r.stage,
                site: r.site,
                stage_date: r.stage_date,
                loan: r.loan,
                note: r.note,
            })
            .collect(),
        next_stage,
        editable,
        site_village,
        move_offer,
        site_village_missing,
        site_village_hint,
    })
}

/// The village the stages of other households at the 安置点 named `site` name, when they name
/// exactly one; none when they name none or disagree.
fn site_village_hint(
    store: &Store,
    household: Uuid,
    site: &str,
) -> Result<Option<SiteVillageHint>, PolicyError> {
    let site = site.trim();
    if site.is_empty() {
        return Ok(None);
    }
    let named: Vec<(String, u32)> = {
        let mut stmt = store
            .conn()
            .prepare_cached(
                "SELECT trim(site_village), count(DISTINCT household_id) FROM relocation
                 WHERE deleted = 0 AND trim(site) = ?1 AND household_id IS NOT ?2
                   AND coalesce(trim(site_village), '') <> ''
                 GROUP BY trim(site_village)",
            )
            .map_err(StoreError::from)?;
        stmt.query_map(
            rusqlite::params![site, household.as_bytes().as_slice()],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .and_then(|rows| rows.collect::<Result<Vec<_>, _>>())
        .map_err(StoreError::from)?
    };
    match named.as_slice() {
        [(code, households)] => Ok(Some(SiteVillageHint {
            village: site_village_named(store, code)?,
            households: *households,
        })),
        _ => Ok(None),
    }
}

/// Names the village of a household's 安置点 on its 入住 stage (one recorded before the box asked
/// for it, or named wrongly), and returns the box as it now stands with the move to offer, if
/// any. The village must be one this copy holds; a household without 入住 is refused.
pub fn set_site_village(
    store: &mut Store,
    household: Uuid,
    village_code: &str,
) -> Result<StageSaved, PolicyError> {
    store.require(Permission::FileHouseholds)?;
    match store.get::<Household>(household) {
        Ok(_) => {}
        Err(StoreError::NotFound { .. }) => {
            return Err(PolicyError::HouseholdNotFound { id: household });
        }
        Err(e) => return Err(e.into()),
    }
    let moved_in = store
        .read::<Relocation>(Filter::OfHousehold(household))?
        .into_iter()
        .filter(|r| r.stage == MOVED_IN_STAGE)
        .max_by_key(|r| r.stage_date)
        .ok_or(PolicyError::NotMovedIn)?;
    let code = village_code.trim();
    // Checked (a village this copy holds) before anything is written.
    let offer = move_offer(store, household, code, &moved_in.site)?;
    store.write(&[crate::store::Change::Put {
        table: crate::model::Table::Relocation,
        id: moved_in.id,
        fields: vec![(
            "site_village",
            crate::model::FieldValue::Text(code.to_owned()),
        )],
    }])?;
    Ok(StageSaved {
        relocation: household_relocation(store, household)?,
        move_offer: offer,
    })
}

/// The village of `code` with its name, or with none when this copy holds no single village of
/// that code.
fn site_village_named(store: &Store, code: &str) -> Result<SiteVillage, PolicyError> {
    let name = match moving::village_by_code(store, code) {
        Ok(v) => v.name,
        Err(MoveError::UnknownVillage { .. } | MoveError::AmbiguousVillage { .. }) => String::new(),
        Err(e) => return Err(e.into()),
    };
    Ok(SiteVillage {
        code: code.to_owned(),
        name,
    })
}

/// 七个一批's 易地扶贫搬迁 path: a measure on it makes the household a 搬迁户.
const RELOCATION_PATH: &str = "02";
