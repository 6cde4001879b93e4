//! What a device may see: a county, a township or a village, by its 统计用区划代码 prefix; and
//! how far each table's rows reach (a village's records, or the county's settings).

use std::fmt;

use bangfu_core::model::Table;

/// How far the rows of a table reach.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reach {
    /// Rows of one village (its households and what hangs under them, the helpers they name):
    /// they follow their row's village.
    Village,
    /// The county's settings (脱贫标准, 扶贫政策, 县级设置): every device of the county receives them, and only a
    /// county or township device may set them.
    County,
}

/// The table→scope rule: which rows go to the whole county.
pub fn reach_of(table: i64) -> Reach {
    match Table::from_code(table) {
        Some(Table::Standard | Table::Policy | Table::CountySetting) => Reach::County,
        _ => Reach::Village,
    }
}

/// Whether a device of `scope` may set the county's settings: a county or township device.
pub fn may_set_county_rows(scope: &Scope) -> bool {
    scope.level() != Level::Village
}

/// A 6-digit county code, a 9-digit township prefix or a 12-digit village code.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Scope(String);

/// How wide a scope is; each level pulls from its own column of the hub's feed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Level {
    County,
    Township,
    Village,
}

impl Scope {
    /// Parses a scope code; anything but 6, 9 or 12 ASCII digits is refused.
    pub fn parse(code: &str) -> Option<Scope> {
        let digits = code.bytes().all(|b| b.is_ascii_digit());
        (digits && matches!(code.len(), 6 | 9 | 12)).then(|| Scope(code.to_owned()))
    }

    pub fn level(&self) -> Level {
        match self.0.len() {
            6 => Level::County,
            9 => Level::Township,
            _ => Level::Village,
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The 6-digit county the scope lies in.
    pub fn county(&self) -> &str {
        self.0.get(..6).unwrap_or(&self.0)
    }

    /// Whether a village (by its 12-digit code) lies inside this scope.
    pub fn contains(&self, village: &str) -> bool {
        village.starts_with(&self.0)
    }
}

impl fmt::Display for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Whether `code` is a 12-digit village code, the only key the hub files ops under.
pub fn is_village_code(code: &str) -> bool {
    code.len() == 12 && code.bytes().all(|b| b.is_ascii_digit())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn standards_reach_the_county_and_only_county_or_township_sets_them() {
        let county_wide = [Table::Standard, Table::Policy, Table::CountySetting];
        for table in county_wide {
            assert_eq!(reach_of(table.code()), Reach::County, "{table:?}");
        }
        for table in Table::ALL.into_iter().filter(|t| !county_wide.contains(t)) {
            assert_eq!(reach_of(table.code()), Reach::Village, "{table:?}");
        }
        let may = |code: &str| Scope::parse(code).is_some_and(|s| may_set_county_rows(&s));
        assert!(may("530828"));
        assert!(may("530828101"));
        assert!(!may("530828101201"));
        assert_eq!(
            Scope::parse("530828101201").map(|s| s.county().to_owned()),
            Some("530828".into())
        );
    }

    #[test]
    fn scopes_parse_and_contain_villages_by_prefix() {
        let village = "530828101201";
        let cases = [
            ("530828", Some(Level::County), true),
            ("530828101", Some(Level::Township), true),
            ("530828102", Some(Level::Township), false),
            ("530828101201", Some(Level::Village), true),
            ("530828101202", Some(Level::Village), false),
            ("53082", None, false),
            ("5308281012", None, false),
            ("53082810120x", None, false),
            ("", None, false),
        ];
        for (code, level, contains) in cases {
            let scope = Scope::parse(code);
            assert_eq!(scope.as_ref().map(Scope::level), level, "{code}");
            assert_eq!(
                scope.is_some_and(|s| s.contains(village)),
                contains,
                "{code}"
            );
        }
    }
}
