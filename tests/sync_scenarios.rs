//! Sync scenarios read from `fixtures/scenarios/*.json`: laptops and stations file, edit,
//! delete, export and import; each scenario states what every copy must hold afterwards.

// Test helpers may panic on setup failures: that is how a test reports them.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::collections::{BTreeMap, HashMap};
use std::path::Path;

use bangfu_core::model::input::parse_input;
use bangfu_core::model::{Entity, FieldValue, Household, Member, Table};
use bangfu_core::query::{HouseholdQuery, households};
use bangfu_core::store::{Change, Store, put_change};
use bangfu_core::sync::digest::state_hash;
use bangfu_core::sync::exchange::{duplicate_counts, export_changeset, import_changeset};
use bangfu_core::sync::review::review_items;
use serde_json::Value;
use uuid::Uuid;

const T0: u64 = 1_750_000_000_000;

struct World {
    dir: tempfile::TempDir,
    stores: BTreeMap<String, Store>,
    clocks: HashMap<String, u64>,
    households: HashMap<String, Uuid>,
    files: HashMap<String, Vec<u8>>,
}

fn text_value(table: Table, field: &str, text: &str) -> (&'static str, FieldValue) {
    let spec = table
        .field(field)
        .unwrap_or_else(|| panic!("unknown field {field}"));
    (
        spec.name,
        parse_input(spec, text).unwrap_or_else(|e| panic!("{}", e.message)),
    )
}

impl World {
    fn store(&mut self, name: &str) -> &mut Store {
        if !self.stores.contains_key(name) {
            let file = format!("s{}", self.stores.len());
            let mut store = common::open_at(self.dir.path(), &file, T0);
            store.rename_device(name).unwrap();
            self.stores.insert(name.to_owned(), store);
            self.clocks.insert(name.to_owned(), T0);
        }
        self.stores.get_mut(name).unwrap()
    }

    fn household_id(&mut self, code: &str) -> Uuid {
        *self
            .households
            .entry(code.to_owned())
            .or_insert_with(Uuid::now_v7)
    }

    fn write(&mut self, at: &str, changes: Vec<Change>) {
        self.store(at)
            .write(&changes)
            .unwrap_or_else(|e| panic!("{at}: {e}"));
    }

    fn step(&mut self, step: &Value) {
        let s = |k: &str| step[k].as_str().unwrap_or_default().to_owned();
        if let Some(ms) = step["tick"].as_u64() {
            let at = s("at");
            let clock = self.clocks.get(&at).copied().unwrap_or(T0) + ms;
            self.store(&at).set_fixed_clock(clock);
            self.clocks.insert(at, clock);
        }
        if step.get("household").is_some() && step.get("set").is_some() {
            let code = s("household");
            let id = self.household_id(&code);
            let mut fields = vec![("code", FieldValue::Text(code))];
            for (k, v) in step["set"].as_object().unwrap() {
                fields.push(text_value(Table::Household, k, v.as_str().unwrap()));
            }
            self.write(
                &s("at"),
                vec![Change::Put {
                    table: Table::Household,
                    id,
                    fields,
                }],
            );
        } else if let Some(m) = step.get("member") {
            let household = self.household_id(m["household"].as_str().unwrap());
            let mut member = Member {
                id: Uuid::now_v7(),
                household_id: Some(household),
                ..Default::default()
            };
            let mut fields = member.to_fields();
            for k in ["name", "id_number", "relation", "sex"] {
                let (name, value) = text_value(Table::Member, k, m[k].as_str().unwrap_or_default());
                fields.retain(|(n, _)| *n != name);
                fields.push((name, value));
            }
            member.id = Uuid::now_v7();
            self.write(
                &s("at"),
                vec![Change::Put {
                    table: Table::Member,
                    id: member.id,
                    fields,
                }],
            );
        } else if step.get("delete").is_some() {
            let id = self.household_id(&s("delete"));
            self.write(
                &s("at"),
                vec![Change::Delete {
                    table: Table::Household,
                    id,
                }],
            );
        } else if let Some(r) = step.get("restore") {
            let id = self.household_id(r["household"].as_str().unwrap());
            self.write(
                r["at"].as_str().unwrap(),
                vec![Change::Restore {
                    table: Table::Household,
                    id,
                }],
            );
        } else if let Some(r) = step.get("resolve") {
            let id = self.household_id(r["household"].as_str().unwrap());
            let (field, value) = text_value(
                Table::Household,
                r["field"].as_str().unwrap(),
                r["value"].as_str().unwrap(),
            );
            let change = Change::Resolve {
                table: Table::Household,
                id,
                field: field.into(),
                value,
            };
            self.write(r["at"].as_str().unwrap(), vec![change]);
        } else if step.get("export").is_some() {
            let (bytes, _) = export_changeset(self.store(&s("export")), None).unwrap();
            self.files.insert(s("file"), bytes);
        } else if step.get("import").is_some() {
            let bytes = self.files[&s("import")].clone();
            let summary = import_changeset(self.store(&s("into")), &bytes).unwrap();
            let got = serde_json::to_value(&summary).unwrap();
            for (k, want) in step["summary"].as_object().into_iter().flatten() {
                assert_eq!(&got[k], want, "import summary {k}: {summary:?}");
            }
        } else if let Some(names) = step["exchange_all"].as_array() {
            let names: Vec<String> = names
                .iter()
                .map(|n| n.as_str().unwrap().to_owned())
                .collect();
            let files: Vec<Vec<u8>> = names
                .iter()
                .map(|n| export_changeset(self.store(n), None).unwrap().0)
                .collect();
            for n in &names {
                for f in &files {
                    import_changeset(self.store(n), f).unwrap();
                }
            }
        } else if let Some(names) = step["same_state"].as_array() {
            let hashes: Vec<String> = names
                .iter()
                .map(|n| state_hash(self.store(n.as_str().unwrap())).unwrap())
                .collect();
            assert!(
                hashes.windows(2).all(|w| w[0] == w[1]),
                "copies differ: {names:?}"
            );
        } else if let Some(e) = step.get("expect") {
            self.expect(e);
        } else {
            panic!("unknown step {step}");
        }
    }

    fn expect(&mut self, e: &Value) {
        let at = e["at"].as_str().unwrap().to_owned();
        let codes: Vec<(String, Uuid)> = self
            .households
            .iter()
            .map(|(c, id)| (c.clone(), *id))
            .collect();
        let store = self.store(&at);
        let count = |e: &Value, key: &str| e[key].as_i64();
        if let Some(want) = count(e, "households") {
            let page = households(store, &HouseholdQuery::default()).unwrap();
            assert_eq!(page.total, want, "{at}: households");
        }
        if let Some(want) = count(e, "people") {
            let n = store
                .read::<Member>(bangfu_core::store::Filter::All)
                .unwrap()
                .len() as i64;
            assert_eq!(n, want, "{at}: people");
        }
        let items = review_items(store).unwrap();
        if let Some(want) = count(e, "conflicts") {
            assert_eq!(
                items.iter().filter(|i| i.kind == "conflict").count() as i64,
                want,
                "{at}: {items:?}"
            );
        }
        if let Some(want) = count(e, "edits_of_deleted") {
            assert_eq!(
                items.iter().filter(|i| i.kind == "edit_of_deleted").count() as i64,
                want,
                "{at}: {items:?}"
            );
        }
        if let Some(want) = count(e, "duplicate_people") {
            assert_eq!(
                duplicate_counts(store).unwrap().0,
                want,
                "{at}: duplicate people"
            );
        }
        for (code, fields) in e["values"].as_object().into_iter().flatten() {
            let id = codes
                .iter()
                .find(|(c, _)| c == code)
                .map(|(_, id)| *id)
                .unwrap();
            let h = store
                .get::<Household>(id)
                .unwrap_or_else(|err| panic!("{at}: {code}: {err}"));
            let current: HashMap<&str, FieldValue> = h.to_fields().into_iter().collect();
            for (field, want) in fields.as_object().unwrap() {
                let (name, value) = text_value(Table::Household, field, want.as_str().unwrap());
                assert_eq!(current[name], value, "{at}: {code}.{field}");
            }
        }
        let _ = put_change::<Household>;
    }
}

#[test]
fn every_sync_scenario_holds() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../fixtures/scenarios");
    let mut ran = 0;
    let mut entries: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    entries.sort();
    for path in entries
        .into_iter()
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
    {
        let scenario: Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
        let mut world = World {
            dir: common::scratch(),
            stores: BTreeMap::new(),
            clocks: HashMap::new(),
            households: HashMap::new(),
            files: HashMap::new(),
        };
        for (i, step) in scenario["steps"].as_array().unwrap().iter().enumerate() {
            let outcome =
                std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| world.step(step)));
            if outcome.is_err() {
                panic!("{}: step {i} failed: {step}", path.display());
            }
        }
        ran += 1;
    }
    assert!(ran >= 4, "scenarios found: {ran}");
}
