//! `bangfu device list|confirm|confirm-county|merge-held|drop-held|village|require`: the devices whose signed
//! files this copy has seen, their safety numbers (安全码), confirming one so its held ops
//! merge, merging what a village device did outside its village once a person has checked it,
//! declining what waits, and changing the village a device is limited to.

use std::path::PathBuf;

use bangfu_core::sync::trust::{
    ConfirmOutcome, Replace, confirm_county_key, confirm_device, county_candidates, drop_held,
    list_devices, merge_held_outside, set_device_village, unconfirm_device, unconfirmed_message_zh,
};
use clap::Subcommand;

use crate::{Failure, open_store, print_json};

#[derive(Debug, Subcommand)]
pub enum DeviceCommand {
    /// 列出本机认识的设备及其安全码（待确认设备的修改暂存，确认后合并）
    List {
        #[arg(long)]
        db: PathBuf,
        #[arg(long)]
        json: bool,
    },
    /// 核对安全码后确认一台设备，暂存的修改随即合并
    Confirm {
        #[arg(long)]
        db: PathBuf,
        /// 设备的安全码（30 位数字，可带空格）
        fingerprint: String,
        /// 这台设备所属村的村代码：它对外村的户、工作队、村情的修改暂存，核实后再合并
        #[arg(long)]
        village: Option<String>,
        #[arg(long)]
        json: bool,
    },
    /// 核对县同步中心的安全码（县里通知的，或同步中心电脑上 bangfu-hub county-key 显示的）后确认它：县里登记过的设备随之确认，暂存的修改合并
    ConfirmCounty {
        #[arg(long)]
        db: PathBuf,
        /// 县同步中心的安全码（30 位数字，可带空格）
        fingerprint: String,
        /// 县里通知更换了安全码（如重建了同步中心）：改认这个，旧安全码签发的证书作废
        #[arg(long)]
        replace: bool,
        #[arg(long)]
        json: bool,
    },
    /// 取消对一台设备的确认（当初确认有误，如县同步中心为它带来了另一个安全码）：改为待确认，县里登记的安全码在下次同步时随之确认
    Unconfirm {
        #[arg(long)]
        db: PathBuf,
        /// 设备的安全码（30 位数字，可带空格）
        fingerprint: String,
        #[arg(long)]
        json: bool,
    },
    /// 核实后合并一台设备超出本村而暂存的修改（它的村限制仍然有效）
    MergeHeld {
        #[arg(long)]
        db: PathBuf,
        /// 设备的安全码（30 位数字，可带空格）
        fingerprint: String,
        #[arg(long)]
        json: bool,
    },
    /// 不合并一台设备暂存的修改：删除只含它的修改的暂存同步文件（记入审计记录）
    DropHeld {
        #[arg(long)]
        db: PathBuf,
        /// 设备的安全码（30 位数字，可带空格）
        fingerprint: String,
        #[arg(long)]
        json: bool,
    },
    /// 更改已确认设备所属的村（--village 村代码；--no-village 不限村，如乡镇的电脑）
    Village {
        #[arg(long)]
        db: PathBuf,
        /// 设备的安全码（30 位数字，可带空格）
        fingerprint: String,
        #[arg(
            long,
            conflicts_with = "no_village",
            required_unless_present = "no_village"
        )]
        village: Option<String>,
        #[arg(long)]
        no_village: bool,
        #[arg(long)]
        json: bool,
    },
    /// 是否要求先确认设备：on = 未确认设备的修改暂存，off = 直接合并（默认）
    Require {
        #[arg(long)]
        db: PathBuf,
        #[arg(value_parser = ["on", "off"])]
        state: String,
    },
}

pub fn run(command: DeviceCommand) -> Result<(), Failure> {
    match command {
        DeviceCommand::List { db, json } => {
            let store = open_store(&db)?;
            let devices = list_devices(&store)?;
            if json {
                print_json(&devices);
                return Ok(());
            }
            if devices.is_empty() {
                println!("本机还不认识任何设备（本机第一次保存后会生成自己的签名密钥）。");
            }
            for d in devices {
                let state = if d.key.own {
                    "本机"
                } else if d.key.confirmed {
                    "已确认"
                } else {
                    "待确认设备"
                };
                let village = d
                    .key
                    .village
                    .as_deref()
                    .map(|v| format!("，限 {v} 村"))
                    .unwrap_or_default();
                let word = if d.key.confirmed && d.key.county_vouched {
                    "，县里担保"
                } else {
                    ""
                };
                let held = if d.held_files > 0 {
                    format!("，暂存同步文件 {} 个", d.held_files)
                } else {
                    String::new()
                };
                println!(
                    "[{state}] {}  安全码 {}{village}{word}{held}",
                    d.key.name, d.key.fingerprint
                );
            }
            let county = store.county_key_status()?;
            if let Some(fp) = &county.fingerprint {
                println!(
                    "[县同步中心] 安全码 {fp}，已确认；持有县里签发的设备证书 {} 份",
                    county.certs
                );
            }
            for candidate in county_candidates(&store)? {
                let from = if candidate.from_hub {
                    "同步中心带来"
                } else {
                    "收到的同步文件带着"
                };
                if county.fingerprint.is_some() {
                    println!(
                        "[县同步中心，安全码不符] 安全码 {}：{from}它签发的证书（{}），与本机认定的不同，可能是伪造的，未采用。县里确实通知更换了安全码时，核对无误后用 bangfu device confirm-county 安全码 --replace 改认。",
                        candidate.fingerprint,
                        candidate.devices.join("、")
                    );
                } else {
                    println!(
                        "[县同步中心，待确认] 安全码 {}：{from}它签发的 {} 台设备的证书（{}）。与县里通知的安全码核对无误后，用 bangfu device confirm-county 安全码 确认。",
                        candidate.fingerprint,
                        candidate.devices.len(),
                        candidate.devices.join("、")
                    );
                }
            }
            Ok(())
        }
        DeviceCommand::ConfirmCounty {
            db,
            fingerprint,
            replace,
            json,
        } => {
            let mut store = open_store(&db)?;
            let replace = if replace { Replace::Any } else { Replace::No };
            let outcome = confirm_county_key(&mut store, &fingerprint, replace)?;
            if json {
                print_json(&outcome);
            } else {
                for line in outcome.lines_zh() {
                    println!("{line}");
                }
            }
            Ok(())
        }
        DeviceCommand::Confirm {
            db,
            fingerprint,
            village,
            json,
        } => {
            let mut store = open_store(&db)?;
            let outcome = confirm_device(&mut store, &fingerprint, village.as_deref())?;
            say(&outcome, json, "已确认设备");
            Ok(())
        }
        DeviceCommand::Unconfirm {
            db,
            fingerprint,
            json,
        } => {
            let mut store = open_store(&db)?;
            let device = unconfirm_device(&mut store, &fingerprint)?;
            if json {
                print_json(&device);
            } else {
                println!("{}", unconfirmed_message_zh(&device));
            }
            Ok(())
        }
        DeviceCommand::MergeHeld {
            db,
            fingerprint,
            json,
        } => {
            let mut store = open_store(&db)?;
            let outcome = merge_held_outside(&mut store, &fingerprint)?;
            say(&outcome, json, "已合并暂存的修改：设备");
            Ok(())
        }
        DeviceCommand::DropHeld {
            db,
            fingerprint,
            json,
        } => {
            let mut store = open_store(&db)?;
            let outcome = drop_held(&mut store, &fingerprint)?;
            if json {
                print_json(&outcome);
            } else {
                for line in outcome.lines_zh() {
                    println!("{line}");
                }
            }
            Ok(())
        }
        DeviceCommand::Village {
            db,
            fingerprint,
            village,
            no_village: _,
            json,
        } => {
            let mut store = open_store(&db)?;
            let outcome = set_device_village(&mut store, &fingerprint, village.as_deref())?;
            let what = match &village {
                Some(code) => format!("已改为限 {code} 村：设备"),
                None => "已改为不限村：设备".to_owned(),
            };
            say(&outcome, json, &what);
            Ok(())
        }
        DeviceCommand::Require { db, state } => {
            let store = open_store(&db)?;
            store.set_confirms_devices(state == "on")?;
            if state == "on" {
                println!("已开启：未确认设备的修改将暂存，核对安全码并确认后才合并。");
            } else {
                println!("已关闭：所有签名有效的修改直接合并，新设备记为待确认。");
            }
            Ok(())
        }
    }
}

fn say(outcome: &ConfirmOutcome, json: bool, what: &str) {
    if json {
        print_json(outcome);
        return;
    }
    for line in outcome.lines_zh(what) {
        println!("{line}");
    }
}
