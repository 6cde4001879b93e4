//! The replicated tables and the `entity!` declaration that ties a Rust struct, its field
//! catalog (names, Chinese labels, value lists) and its materialized SQL table together.

use serde::Serialize;
use uuid::Uuid;

use super::codes::CodeList;
use super::value::{FieldKind, FieldValue};

/// A replicated table. The number is what the op log stores; it never changes meaning.
#[derive(ts_rs::TS, Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Table {
    Village = 1,
    Household = 2,
    Member = 3,
    Income = 4,
    Helper = 5,
    Pairing = 6,
    Measure = 7,
    Visit = 8,
    ExitStep = 9,
    Standard = 10,
    Policy = 11,
    Payment = 12,
    Relocation = 13,
    Attachment = 14,
    /// 驻村工作队 (issue 17): scoped by its own `village_id`, like a household.
    TeamMember = 15,
    /// 县级设置 (issue 16): one of the county's settings that is not a year's standard (the
    /// first year of 建档立卡); reaches the whole county like the 脱贫标准.
    CountySetting = 16,
}

impl Table {
    pub const ALL: [Table; 16] = [
        Table::Village,
        Table::Household,
        Table::Member,
        Table::Income,
        Table::Helper,
        Table::Pairing,
        Table::Measure,
        Table::Visit,
        Table::ExitStep,
        Table::Standard,
        Table::Policy,
        Table::Payment,
        Table::Relocation,
        Table::Attachment,
        Table::TeamMember,
        Table::CountySetting,
    ];

    pub fn code(self) -> i64 {
        self as i64
    }

    /// `None` for a table code this version does not know (written by a newer version).
    pub fn from_code(code: i64) -> Option<Table> {
        Table::ALL.into_iter().find(|t| t.code() == code)
    }

    /// The table whose [`Table::sql_name`] is `name` (the window names tables that way).
    pub fn from_sql_name(name: &str) -> Option<Table> {
        Table::ALL.into_iter().find(|t| t.sql_name() == name)
    }

    /// The materialized SQL table. A fixed identifier, never built from input.
    pub fn sql_name(self) -> &'static str {
        match self {
            Table::Village => "village",
            Table::Household => "household",
            Table::Member => "member",
            Table::Income => "income",
            Table::Helper => "helper",
            Table::Pairing => "pairing",
            Table::Measure => "measure",
            Table::Visit => "visit",
            Table::ExitStep => "exit_step",
            Table::Standard => "standard",
            Table::Policy => "policy",
            Table::Payment => "payment",
            Table::Relocation => "relocation",
            Table::Attachment => "attachment",
            Table::TeamMember => "team_member",
            Table::CountySetting => "county_setting",
        }
    }

    /// What the forms call a row of this table.
    pub fn label(self) -> &'static str {
        match self {
            Table::Village => "村",
            Table::Household => "贫困户",
            Table::Member => "家庭成员",
            Table::Income => "收入",
            Table::Helper => "帮扶责任人",
            Table::Pairing => "结对帮扶",
            Table::Measure => "帮扶措施",
            Table::Visit => "走访记录",
            Table::ExitStep => "脱贫退出程序",
            Table::Standard => "脱贫标准",
            Table::Policy => "扶贫政策",
            Table::Payment => "发放记录",
            Table::Relocation => "易地搬迁进度",
            Table::Attachment => "档案",
            Table::TeamMember => "驻村工作队",
            Table::CountySetting => "县级设置",
        }
    }

    pub fn fields(self) -> &'static [FieldSpec] {
        use super::*;
        match self {
            Table::Village => Village::FIELDS,
            Table::Household => Household::FIELDS,
            Table::Member => Member::FIELDS,
            Table::Income => Income::FIELDS,
            Table::Helper => Helper::FIELDS,
            Table::Pairing => Pairing::FIELDS,
            Table::Measure => Measure::FIELDS,
            Table::Visit => Visit::FIELDS,
            Table::ExitStep => ExitStep::FIELDS,
            Table::Standard => Standard::FIELDS,
            Table::Policy => Policy::FIELDS,
            Table::Payment => Payment::FIELDS,
            Table::Relocation => Relocation::FIELDS,
            Table::Attachment => Attachment::FIELDS,
            Table::TeamMember => TeamMember::FIELDS,
            Table::CountySetting => CountySetting::FIELDS,
        }
    }

    pub fn field(self, name: &str) -> Option<&'static FieldSpec> {
        self.fields().iter().find(|f| f.name == name)
    }
}

/// The op-log field that marks a row deleted (1) or restored (0). Every table has it.
pub const DELETED_FIELD: &str = "deleted";

/// One field of an entity as the forms know it.
#[derive(ts_rs::TS, Debug, Clone, Copy, Serialize)]
pub struct FieldSpec {
    pub name: &'static str,
    pub label: &'static str,
    pub kind: FieldKind,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub codes: Option<&'static CodeList>,
    /// The field holds several codes of its list, joined by commas.
    pub multi: bool,
}

/// A record of a replicated table.
pub trait Entity: Sized {
    const TABLE: Table;
    const FIELDS: &'static [FieldSpec];
    fn id(&self) -> Uuid;
    fn to_fields(&self) -> Vec<(&'static str, FieldValue)>;
    /// Builds the record from stored values; `Err(field)` names a value of the wrong type.
    fn from_fields(id: Uuid, get: &mut dyn FnMut(&str) -> FieldValue)
    -> Result<Self, &'static str>;
}

/// Declares an entity: its struct, its field catalog and its conversions, from one list.
macro_rules! entity {
    (@codes) => { None };
    (@codes $c:expr) => { Some(&$c) };
    (@multi) => { false };
    (@multi $m:literal) => { $m };
    (
        $(#[$meta:meta])*
        $name:ident in $table:expr;
        $( $(#[$fmeta:meta])* $field:ident : $ty:ty => $label:literal
            $(, codes = $codes:expr)? $(, multi = $multi:literal)? ; )*
    ) => {
        $(#[$meta])*
        #[derive(ts_rs::TS, Debug, Clone, Default, PartialEq, serde::Serialize, serde::Deserialize)]
        #[serde(default)]
        pub struct $name {
            pub id: uuid::Uuid,
            $( $(#[$fmeta])* pub $field: $ty, )*
        }

        impl $crate::model::Entity for $name {
            const TABLE: $crate::model::Table = $table;
            const FIELDS: &'static [$crate::model::FieldSpec] = &[
                $( $crate::model::FieldSpec {
                    name: stringify!($field),
                    label: $label,
                    kind: <$ty as $crate::model::FieldType>::KIND,
                    codes: entity!(@codes $($codes)?),
                    multi: entity!(@multi $($multi)?),
                }, )*
            ];

            fn id(&self) -> uuid::Uuid {
                self.id
            }

            fn to_fields(&self) -> Vec<(&'static str, $crate::model::FieldValue)> {
                vec![ $( (stringify!($field), $crate::model::FieldType::to_value(&self.$field)), )* ]
            }

            fn from_fields(
                id: uuid::Uuid,
                get: &mut dyn FnMut(&str) -> $crate::model::FieldValue,
            ) -> Result<Self, &'static str> {
                Ok($name {
                    id,
                    $( $field: <$ty as $crate::model::FieldType>::from_value(&get(stringify!($field)))
                        .ok_or(stringify!($field))?, )*
                })
            }
        }
    };
}
pub(crate) use entity;
