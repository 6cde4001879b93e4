//! Figures derived from filed records: family size and the income lines of the forms.

use serde::Serialize;

use super::{Income, Member};

/// 家庭人口: the household's live members.
///
/// Deletion lives in the op log, not on [`Member`], so the caller hands over live rows only;
/// every row counts, including members away for work or in active service, as on the forms.
pub fn family_size(members: &[Member]) -> usize {
    members.len()
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
    fn family_size_counts_every_live_member() {
        assert_eq!(family_size(&[]), 0);
        assert_eq!(
            family_size(&[Member::default(), Member::default(), Member::default()]),
            3
        );
    }
}
