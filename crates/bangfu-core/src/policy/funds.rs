//! A township's funds (乡镇经费表) by the catalogue's fund policies: the incentive fund
//! (考核奖励, per household that exited in the year, shared 2:3:5) and the work funds (工作经费:
//! a base per township, per 搬迁户 and per filed person). The counts come from the filed data
//! of the township's villages; the formula from the policy, so a county change reaches it.

use rusqlite::params;
use serde::Serialize;

use super::PolicyError;
use super::catalogue::policies_in_force;
use super::rule::{FundFormula, Rule};
use crate::ledger::Scope;
use crate::store::{Store, StoreError};

/// One fund policy's amount for the township, and its shares.
#[derive(ts_rs::TS, Debug, Clone, PartialEq, Serialize)]
pub struct FundLine {
    pub policy_code: String,
    pub policy_name: String,
    /// How it was computed, in words ("保底500000元 + 搬迁户3户×100元 + …").
    pub formula: String,
    pub amount: f64,
    /// (to whom, amount) when the policy splits it.
    pub shares: Vec<(String, f64)>,
}

#[derive(ts_rs::TS, Debug, Clone, PartialEq, Serialize)]
pub struct TownshipFunds {
    pub township: String,
    pub year: i32,
    /// Households whose 县审定销号 is dated in the year, and households filed as 已脱贫 without
    /// any procedure record whose 计划脱贫年度 is the year.
    pub exited_households: i64,
    /// Live households with a 易地扶贫搬迁 measure or a relocation stage.
    pub relocated_households: i64,
    /// Members of the township's live filed households (建档立卡贫困人口).
    pub poor_people: i64,
    pub lines: Vec<FundLine>,
    pub total: f64,
}

/// The counts a fund formula multiplies, for one township.
fn counts(store: &Store, township: &str, year: i32) -> Result<(i64, i64, i64), StoreError> {
    let conn = store.conn();
    // 县审定销号 = step 5 done (action 1); a household counts once, in the year of its record.
    // A household filed as 已脱贫 with no procedure in the program at all (a roll imported from
    // Excel, the demo's filing) counts in its 计划脱贫年度: that is the one year it names.
    let exited: i64 = conn.query_row(
        "SELECT count(*) FROM household h
         JOIN village v ON v.id = h.village_id AND v.deleted = 0
         WHERE h.deleted = 0 AND v.township = ?1 AND (
             EXISTS (SELECT 1 FROM exit_step e WHERE e.household_id = h.id AND e.deleted = 0
                     AND e.step = '5' AND e.action = '1' AND substr(e.step_date, 1, 4) = ?2)
             OR (h.poverty_status IN ('2', '3') AND h.plan_exit_year = ?3
                 AND NOT EXISTS (SELECT 1 FROM exit_step e
                                 WHERE e.household_id = h.id AND e.deleted = 0)))",
        params![township, year.to_string(), year],
        |r| r.get(0),
    )?;
    let relocated: i64 = conn.query_row(
        "SELECT count(*) FROM household h
         JOIN village v ON v.id = h.village_id AND v.deleted = 0
         WHERE h.deleted = 0 AND v.township = ?1 AND (
             EXISTS (SELECT 1 FROM measure m WHERE m.household_id = h.id AND m.deleted = 0
                     AND m.path = '02')
             OR EXISTS (SELECT 1 FROM relocation r WHERE r.household_id = h.id
                        AND r.deleted = 0))",
        params![township],
        |r| r.get(0),
    )?;
    let people: i64 = conn.query_row(
        "SELECT count(*) FROM member p
         JOIN household h ON h.id = p.household_id AND h.deleted = 0
         JOIN village v ON v.id = h.village_id AND v.deleted = 0
         WHERE p.deleted = 0 AND p.leave_date IS NULL AND v.township = ?1",
        params![township],
        |r| r.get(0),
    )?;
    Ok((exited, relocated, people))
}

fn line(code: &str, name: &str, fund: &FundFormula, counts: (i64, i64, i64)) -> FundLine {
    let (exited, relocated, people) = counts;
    let mut terms = Vec::new();
    let mut amount = 0.0;
    if fund.base > 0.0 {
        amount += fund.base;
        terms.push(format!("保底{}元", fund.base));
    }
    for (per, count, what) in [
        (fund.per_exited_household, exited, "脱贫户"),
        (fund.per_relocated_household, relocated, "搬迁户"),
        (fund.per_poor_person, people, "贫困人口"),
    ] {
        if per > 0.0 {
            amount += per * count as f64;
            terms.push(format!("{what}{count}×{per}元"));
        }
    }
    let total_shares: u32 = fund.split.iter().map(|s| s.share).sum();
    let shares = if total_shares == 0 {
        Vec::new()
    } else {
        fund.split
            .iter()
            .map(|s| {
                let part = amount * f64::from(s.share) / f64::from(total_shares);
                (s.to.clone(), (part * 100.0).round() / 100.0)
            })
            .collect()
    };
    FundLine {
        policy_code: code.to_owned(),
        policy_name: name.to_owned(),
        formula: terms.join(" + "),
        amount,
        shares,
    }
}

/// The funds of a township (by name, as its villages record it) for a year, by the fund
/// policies in force.
pub fn township_funds(
    store: &Store,
    township: &str,
    year: i32,
) -> Result<TownshipFunds, PolicyError> {
    // Checks the township exists, with the ledgers' message when it does not.
    Scope::Township(township.to_owned()).unit_name(store)?;
    let counts = counts(store, township, year)?;
    let lines: Vec<FundLine> = policies_in_force(store, year)?
        .iter()
        .filter_map(|p| match &p.rule {
            Rule::Township { fund } => Some(line(&p.code, &p.name, fund, counts)),
            _ => None,
        })
        .collect();
    let total = lines.iter().map(|l| l.amount).sum();
    Ok(TownshipFunds {
        township: township.to_owned(),
        year,
        exited_households: counts.0,
        relocated_households: counts.1,
        poor_people: counts.2,
        lines,
        total,
    })
}

/// The funds of a township for a year written to `out` as a workbook (乡镇经费表).
pub fn write_township_funds(
    store: &Store,
    township: &str,
    year: i32,
    out: &std::path::Path,
) -> Result<crate::ledger::ReportSummary, PolicyError> {
    let funds = township_funds(store, township, year)?;
    let unit = Scope::Township(township.to_owned()).unit_name(store)?;
    let sheets = crate::ledger::export_township_funds(&funds, &unit, out)?;
    Ok(crate::ledger::ReportSummary {
        unit,
        path: out.display().to_string(),
        sheets,
    })
}
