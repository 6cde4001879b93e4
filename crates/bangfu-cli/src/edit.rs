//! `bangfu edit` and `bangfu delete`: scripted corrections of one household. An edit is saved
//! through the household page's own save (`Store::edit_household_fields`), so it refuses
//! exactly what the page refuses.

use std::path::Path;

use bangfu_core::model::input::parse_input;
use bangfu_core::model::{Household, Table};
use bangfu_core::store::{Change, Filter, Store};

use crate::{Failure, open_store, print_json};

pub(crate) fn find_household(store: &Store, code: &str) -> Result<Household, Failure> {
    let found: Vec<Household> = store
        .read::<Household>(Filter::All)?
        .into_iter()
        .filter(|h| h.code == code)
        .collect();
    match found.len() {
        1 => Ok(found.into_iter().next().unwrap_or_default()),
        0 => Err(Failure::new(
            format!("找不到户编号为 {code} 的户。"),
            format!("household {code} not found"),
        )),
        n => Err(Failure::new(
            format!("户编号 {code} 有 {n} 户重复，请先在“冲突与重复”中处理。"),
            format!("household code {code} is used {n} times"),
        )),
    }
}

pub fn edit(db: &Path, code: &str, assignments: &[String], json: bool) -> Result<(), Failure> {
    let mut store = open_store(db)?;
    let household = find_household(&store, code)?;
    let mut fields = Vec::new();
    for assignment in assignments {
        let Some((name, text)) = assignment.split_once('=') else {
            return Err(Failure::new(
                format!("“{assignment}”格式不对，应写成 字段=值。"),
                format!("bad assignment {assignment}"),
            ));
        };
        let name = name.trim();
        let spec = Table::Household
            .fields()
            .iter()
            .find(|f| f.name == name || f.label == name)
            .ok_or_else(|| {
                Failure::new(
                    format!("贫困户没有“{name}”这一项。"),
                    format!("unknown field {name}"),
                )
            })?;
        let value =
            parse_input(spec, text).map_err(|e| Failure::new(e.message.clone(), e.message))?;
        fields.push((spec.name, value));
    }
    // The household page's own save: refused exactly where the page refuses.
    let outcome = store.edit_household_fields(household.id, &fields)?;
    if json {
        print_json(&outcome);
    } else {
        println!("已保存户 {code}：{} 项修改。", outcome.ops);
        for warning in &outcome.warnings {
            println!("提示：{}", warning.message);
        }
    }
    Ok(())
}

pub fn delete(db: &Path, code: &str, json: bool) -> Result<(), Failure> {
    let mut store = open_store(db)?;
    let household = find_household(&store, code)?;
    let outcome = store.write(&[Change::Delete {
        table: Table::Household,
        id: household.id,
    }])?;
    if json {
        print_json(&outcome);
    } else {
        println!("已删除户 {code}。");
    }
    Ok(())
}
