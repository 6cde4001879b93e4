//! Figures derived from filed records: family size (today's and a past year's) and the income
//! lines of the forms.

use chrono::NaiveDate;
use serde::Serialize;

use super::{Income, Member};

/// A member of the household now: not 减员 (no 减员日期).
///
/// Deletion lives in the op log, not on [`Member`], so callers hand over live rows only.
pub fn is_current(m: &Member) -> bool {
    m.leave_date.is_none()
}

/// The household's current members, in their order.
pub fn current_members(members: &[Member]) -> Vec<Member> {
    members.iter().filter(|m| is_current(m)).cloned().collect()
}

/// 家庭人口 now: the current members, including members away for work or in active service,
/// as on the forms; a member who left (减员) no longer counts.
pub fn family_size(members: &[Member]) -> usize {
    members.iter().filter(|m| is_current(m)).count()
}

/// Whether a member counts in `year`'s 家庭人口. The rule: joined on or before 31 December of
/// the year (a member with no 增员日期 was filed with the household and counts from the start)
/// and not left before 1 January of it (no 减员日期, or one on or after 1 January).
///
/// So a person who died, married out or moved away during the year still counts for that year,
/// and a child born in it counts too: the year's income record holds what the household earned
/// and received while they were in it, and counting everyone who shared it never overstates the
/// year's 人均纯收入 (an exit judged on fewer people than lived on the income would be 错退).
/// A person who left in 2019 is not counted from 2020; 2018 and 2019 are unchanged.
pub fn present_in_year(m: &Member, year: i32) -> bool {
    let (Some(first), Some(last)) = (
        NaiveDate::from_ymd_opt(year, 1, 1),
        NaiveDate::from_ymd_opt(year, 12, 31),
    ) else {
        return false;
    };
    m.join_date.is_none_or(|joined| joined <= last) && m.leave_date.is_none_or(|left| left >= first)
}

/// The members who count in `year` ([`present_in_year`]), in their order.
pub fn members_in_year(members: &[Member], year: i32) -> Vec<Member> {
    members
        .iter()
        .filter(|m| present_in_year(m, year))
        .cloned()
        .collect()
}

/// [`family_size_in_year`] as SQL: the count of live members of the household `household`
/// (an SQL expression) present in the year `year` (an SQL integer expression), for ledgers
/// that compute a year's 人均纯收入 in the query. Both arguments are fixed fragments of the
/// caller, never input. Dates are stored as `YYYY-MM-DD` text, so they compare as text.
pub(crate) fn members_in_year_sql(household: &str, year: &str) -> String {
    format!(
        "(SELECT count(*) FROM member y WHERE y.household_id = {household} AND y.deleted = 0 \
         AND (y.join_date IS NULL OR y.join_date <= printf('%04d-12-31', {year})) \
         AND (y.leave_date IS NULL OR y.leave_date >= printf('%04d-01-01', {year})))"
    )
}

/// 家庭人口 of `year` ([`present_in_year`]): what that year's 人均纯收入 divides by.
pub fn family_size_in_year(members: &[Member], year: i32) -> usize {
    members.iter().filter(|m| present_in_year(m, year)).count()
}

/// Whether a member is still in the household at the end of `year` (joined by 31 December,
/// not left by then): the people whose schooling and insurance the year's 三保障 checks look
/// at. A person who died in the year is no longer asked to be insured.
pub fn present_at_year_end(m: &Member, year: i32) -> bool {
    let Some(last) = NaiveDate::from_ymd_opt(year, 12, 31) else {
        return false;
    };
    m.join_date.is_none_or(|joined| joined <= last) && m.leave_date.is_none_or(|left| left > last)
}

/// The computed lines of a year's income, in 元.
#[derive(ts_rs::TS, Debug, Clone, Copy, PartialEq, Serialize)]
pub struct IncomeSummary {
    /// 总收入 = 工资性 + 生产经营性 + 财产性 + 转移性.
    pub total: f64,
    /// 纯收入 = 总收入 − 生产经营性支出.
    pub net: f64,
    /// 人均纯收入 = 纯收入 / 家庭人口; `None` for a household without members, where the
    /// figure does not exist (rather than being zero or infinite).
    pub per_capita: Option<f64>,
    /// 转移性收入 = 计划生育金 + 低保金 + 特困供养金 + 养老保险金 + 生态补偿金 + 其他转移性收入.
    pub transfer: f64,
    /// 财产性收入 = 资产收益分红收入 + 其他财产性收入.
    pub property: f64,
}

/// Sums the income lines; an empty amount counts as 0 because the forms leave "none" blank.
pub fn income_summary(i: &Income, family_size: usize) -> IncomeSummary {
    let sum = |parts: &[Option<f64>]| parts.iter().map(|p| p.unwrap_or(0.0)).sum::<f64>();
    let transfer = sum(&[
        i.family_planning,
        i.dibao_allowance,
        i.tekun_allowance,
        i.pension_income,
        i.eco_compensation,
        i.other_transfer,
    ]);
    let property = sum(&[i.dividend, i.property_other]);
    let total = sum(&[i.wage, i.business]) + property + transfer;
    let net = total - i.business_expense.unwrap_or(0.0);
    let per_capita = (family_size > 0).then(|| net / family_size as f64);
    IncomeSummary {
        total,
        net,
        per_capita,
        transfer,
        property,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn income() -> Income {
        Income {
            year: Some(2016),
            wage: Some(6000.0),
            business: Some(3000.0),
            dividend: Some(500.0),
            property_other: Some(100.0),
            family_planning: Some(10.0),
            dibao_allowance: Some(1200.0),
            tekun_allowance: Some(20.0),
            pension_income: Some(840.0),
            eco_compensation: Some(300.0),
            other_transfer: Some(30.0),
            business_expense: Some(1000.0),
            ..Default::default()
        }
    }

    #[test]
    fn income_summary_follows_the_form() {
        let s = income_summary(&income(), 4);
        assert_eq!(s.transfer, 2400.0);
        assert_eq!(s.property, 600.0);
        assert_eq!(s.total, 12000.0);
        assert_eq!(s.net, 11000.0);
        assert_eq!(s.per_capita, Some(2750.0));
    }

    #[test]
    fn empty_amounts_count_as_zero_and_no_members_has_no_per_capita() {
        let s = income_summary(&Income::default(), 0);
        assert_eq!(
            s,
            IncomeSummary {
                total: 0.0,
                net: 0.0,
                per_capita: None,
                transfer: 0.0,
                property: 0.0
            }
        );
        let s = income_summary(
            &Income {
                wage: Some(5000.0),
                ..Default::default()
            },
            3,
        );
        assert_eq!((s.total, s.net), (5000.0, 5000.0));
        assert!(
            s.per_capita
                .is_some_and(|p| (p - 5000.0 / 3.0).abs() < 1e-9)
        );
    }

    #[test]
    fn net_income_can_be_negative_after_a_bad_year() {
        let i = Income {
            business: Some(1000.0),
            business_expense: Some(4000.0),
            ..Default::default()
        };
        let s = income_summary(&i, 2);
        assert_eq!((s.net, s.per_capita), (-3000.0, Some(-1500.0)));
    }

    #[test]
    fn family_size_counts_every_current_member() {
        assert_eq!(family_size(&[]), 0);
        assert_eq!(
            family_size(&[Member::default(), Member::default(), Member::default()]),
            3
        );
        let left = Member {
            leave_date: NaiveDate::from_ymd_opt(2019, 3, 1),
            leave_reason: "1".into(),
            ..Default::default()
        };
        assert_eq!(family_size(&[Member::default(), left]), 1);
    }

    fn day(text: &str) -> Option<NaiveDate> {
        (!text.is_empty()).then(|| text.parse().expect("a date of the table"))
    }

    /// Members as (增员日期, 减员日期), "" for none, and each year's 家庭人口 and 人均纯收入 of a
    /// 12,000 元 net income, 2016..=2020.
    #[test]
    fn family_size_and_per_capita_income_follow_the_members_of_each_year() {
        #[allow(clippy::type_complexity)]
        let cases: &[(&str, &[(&str, &str)], [usize; 5])] = &[
            (
                "filed together",
                &[("", ""), ("", ""), ("", "")],
                [3, 3, 3, 3, 3],
            ),
            (
                "died in 2019: counts for 2019, not from 2020",
                &[("", ""), ("", ""), ("", "2019-03-01")],
                [3, 3, 3, 3, 2],
            ),
            (
                "left on 1 January 2019: counts for 2019",
                &[("", ""), ("", "2019-01-01")],
                [2, 2, 2, 2, 1],
            ),
            (
                "left on 31 December 2018: not in 2019",
                &[("", ""), ("", "2018-12-31")],
                [2, 2, 2, 1, 1],
            ),
            (
                "born in December 2017: counts for 2017",
                &[("", ""), ("", ""), ("2017-12-20", "")],
                [2, 3, 3, 3, 3],
            ),
            (
                "married in 2018 and married out in 2020",
                &[("", ""), ("2018-05-01", "2020-02-01")],
                [1, 1, 2, 2, 2],
            ),
            (
                "born and died in 2016",
                &[("", ""), ("", ""), ("2016-02-01", "2016-11-30")],
                [3, 2, 2, 2, 2],
            ),
            (
                "joined in 2021: no year of the table",
                &[("", ""), ("2021-01-01", "")],
                [1, 1, 1, 1, 1],
            ),
        ];
        let net = Income {
            wage: Some(12_000.0),
            ..Default::default()
        };
        for (name, people, sizes) in cases {
            let members: Vec<Member> = people
                .iter()
                .map(|(joined, left)| Member {
                    join_date: day(joined),
                    leave_date: day(left),
                    ..Default::default()
                })
                .collect();
            for (year, want) in (2016..=2020).zip(sizes) {
                let size = family_size_in_year(&members, year);
                assert_eq!(size, *want, "{name}: {year}");
                assert_eq!(
                    members_in_year(&members, year).len(),
                    *want,
                    "{name}: {year}"
                );
                let per_capita = income_summary(&net, size).per_capita;
                assert_eq!(per_capita, Some(12_000.0 / *want as f64), "{name}: {year}");
            }
        }
    }

    #[test]
    fn who_is_asked_about_at_the_year_end() {
        let member = |joined: &str, left: &str| Member {
            join_date: day(joined),
            leave_date: day(left),
            ..Default::default()
        };
        let cases = [
            (member("", ""), true),
            (member("", "2019-03-01"), false),
            (member("", "2019-12-31"), false),
            (member("", "2020-01-01"), true),
            (member("2019-12-31", ""), true),
            (member("2020-01-01", ""), false),
        ];
        for (m, want) in cases {
            assert_eq!(present_at_year_end(&m, 2019), want, "{m:?}");
        }
    }
}
