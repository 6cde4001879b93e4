//! `bangfu enrol` and `bangfu sync`: join the county hub with a one-time code, then sync the
//! data file through it.

use std::path::Path;

use bangfu_hub::client::{ClientConfig, HubClient};

use crate::{Failure, open_store, print_json};

pub fn enrol(db: &Path, hub: &str, code: &str, json: bool) -> Result<(), Failure> {
    let mut store = open_store(db)?;
    let client = HubClient::new(ClientConfig::default());
    let scope = client.enrol(&mut store, hub, code)?;
    if json {
        print_json(&serde_json::json!({ "hub": hub, "scope": scope }));
    } else {
        println!("已加入县同步中心 {hub}，同步范围 {scope}。");
    }
    Ok(())
}

pub fn sync(db: &Path, json: bool) -> Result<(), Failure> {
    let mut store = open_store(db)?;
    let client = HubClient::new(ClientConfig::laptop());
    let report = client.sync_once(&mut store)?;
    if json {
        print_json(&report);
    } else {
        println!(
            "同步完成：上传 {} 条修改，收到 {} 条（其中新的 {} 条）。",
            report.pushed, report.pulled, report.applied
        );
    }
    Ok(())
}
