//! TEMPORARY stand-in for the core's store, query and demo API until they land on `main`.
//! Delete this file at the merge and point the imports at `bangfu_core`.
#![allow(missing_debug_implementations, dead_code)]

pub trait UserFacing {
    fn kind(&self) -> &'static str;
    fn message_zh(&self) -> String;
}

pub mod store {
    use std::path::{Path, PathBuf};

    #[derive(Debug, Default, Clone)]
    pub struct OpenOptions {
        pub identity_dir: Option<PathBuf>,
        pub device_name: Option<String>,
    }

    #[derive(Debug)]
    pub struct StoreError(pub String);

    impl std::fmt::Display for StoreError {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str(&self.0)
        }
    }

    impl super::UserFacing for StoreError {
        fn kind(&self) -> &'static str {
            "store"
        }
        fn message_zh(&self) -> String {
            format!("数据文件出错：{}", self.0)
        }
    }

    pub struct Device {
        pub name: String,
    }

    #[derive(Debug)]
    pub struct Store {
        pub(crate) rows: Vec<super::query::HouseholdRow>,
        pub(crate) initials: Vec<String>,
    }

    impl Store {
        pub fn open(_path: &Path, _options: &OpenOptions) -> Result<Store, StoreError> {
            Ok(Store {
                rows: Vec::new(),
                initials: Vec::new(),
            })
        }

        pub fn device(&self) -> Device {
            Device {
                name: "本机".into(),
            }
        }
    }
}

pub mod query {
    use super::store::{Store, StoreError};
    use serde::{Deserialize, Serialize};

    #[derive(Debug, Default, Deserialize)]
    pub struct HouseholdQuery {
        pub text: String,
        pub village_code: Option<String>,
        pub group_name: Option<String>,
        pub poverty_status: Option<String>,
        pub attribute: Option<String>,
        pub main_cause: Option<String>,
        pub not_visited_days: Option<i64>,
        pub sort: Option<String>,
        pub descending: bool,
        pub offset: i64,
        pub limit: i64,
    }

    #[derive(Debug, Serialize)]
    pub struct HouseholdPage {
        pub total: i64,
        pub rows: Vec<HouseholdRow>,
    }

    #[derive(Debug, Clone, Serialize)]
    pub struct HouseholdRow {
        pub id: String,
        pub code: String,
        pub village_name: String,
        pub group_name: String,
        pub head_name: String,
        pub head_id_number: String,
        pub members: i64,
        pub attribute: String,
        pub poverty_status: String,
        pub main_cause: String,
        pub last_visit: Option<String>,
    }

    pub fn households(store: &Store, q: &HouseholdQuery) -> Result<HouseholdPage, StoreError> {
        let text = q.text.to_lowercase();
        let hits: Vec<&HouseholdRow> = store
            .rows
            .iter()
            .zip(&store.initials)
            .filter(|(r, ini)| {
                text.is_empty()
                    || r.head_name.contains(&text)
                    || r.head_id_number.contains(&text)
                    || ini.starts_with(&text)
            })
            .map(|(r, _)| r)
            .filter(|r| q.group_name.as_ref().is_none_or(|g| &r.group_name == g))
            .collect();
        let rows = hits
            .iter()
            .skip(usize::try_from(q.offset).unwrap_or(0))
            .take(usize::try_from(q.limit).unwrap_or(0))
            .map(|r| (*r).clone())
            .collect();
        Ok(HouseholdPage {
            total: i64::try_from(hits.len()).unwrap_or(0),
            rows,
        })
    }
}

pub mod demo {
    use super::query::HouseholdRow;
    use super::store::{Store, StoreError};

    pub struct DemoSummary;

    pub fn write_demo_village(store: &mut Store) -> Result<DemoSummary, StoreError> {
        let surnames = [
            ("王", "w"),
            ("李", "l"),
            ("张", "z"),
            ("刘", "l"),
            ("陈", "c"),
        ];
        let given = [
            ("建国", "jg"),
            ("秀英", "xy"),
            ("志强", "zq"),
            ("桂兰", "gl"),
            ("德明", "dm"),
        ];
        let status = ["未脱贫", "已脱贫(享受政策)", "已脱贫(不再享受政策)"];
        let cause = ["因病", "因残", "因学", "缺技术", "缺劳力"];
        for i in 0..300usize {
            let (s, si) = surnames[i % 5];
            let (g, gi) = given[(i / 5) % 5];
            store.rows.push(HouseholdRow {
                id: format!("stub-{i}"),
                code: format!("5224230101{:05}", i + 1),
                village_name: "石桥村".into(),
                group_name: format!("{}组", ["一", "二", "三", "四", "五", "六"][i % 6]),
                head_name: format!("{s}{g}"),
                head_id_number: format!("52242319{:02}0{:03}{:03}X", 50 + i % 40, i % 12 + 1, i),
                members: i64::try_from(1 + i % 6).unwrap_or(1),
                attribute: ["一般贫困户", "低保贫困户"][i % 2].into(),
                poverty_status: status[i % 3].into(),
                main_cause: cause[i % 5].into(),
                last_visit: (i % 7 != 0).then(|| format!("2025-0{}-{:02}", 1 + i % 9, 1 + i % 28)),
            });
            store.initials.push(format!("{si}{gi}"));
        }
        Ok(DemoSummary)
    }
}
