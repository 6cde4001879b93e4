//! `bangfu standards list|set|clear`: the county's 脱贫标准 (贫困线 per year and province, 公示天数,
//! 贫困发生率上限, 贫困村退出核对项目), synced to every copy of the county like any record; and
//! `bangfu standards filing-year`: the county's first year of 建档立卡, synced the same way.

use std::path::PathBuf;

use bangfu_core::county_settings::{
    clear_first_filing_year, county_settings, set_first_filing_year,
};
use bangfu_core::exit::standards::{ExitStandard, clear_standard, list_standards, resolve};
use bangfu_core::exit::{ExitError, set_standard};
use bangfu_core::model::codes::VILLAGE_CHECK;
use clap::Subcommand;

use crate::{Failure, open_store, print_json};

#[derive(Debug, Subcommand)]
pub enum StandardsCommand {
    /// 列出各年度的脱贫标准（县里设定的与程序自带的，注明依据）
    List {
        #[arg(long)]
        db: PathBuf,
        #[arg(long)]
        json: bool,
    },
    /// 设定一个年度的脱贫标准（同步到全县各台电脑）；未给出的项沿用该年现行标准
    Set {
        #[arg(long)]
        db: PathBuf,
        #[arg(long)]
        year: i32,
        /// 省名，如 云南省；不填 = 全国（没有本省标准的省份都用它）
        #[arg(long, default_value = "")]
        province: String,
        /// 贫困线（人均纯收入，元/人·年）
        #[arg(long)]
        line: Option<f64>,
        /// 村评议公示最少天数
        #[arg(long)]
        notice_days: Option<i64>,
        /// 贫困村贫困发生率上限（%）
        #[arg(long)]
        incidence_limit: Option<f64>,
        /// 广播电视覆盖率下限（%）
        #[arg(long)]
        broadcast_min: Option<f64>,
        /// 贫困村退出核对项目，逗号分隔：通硬化路,通动力电,广播电视覆盖率达标,通宽带,安全饮水,有标准化卫生室,有综合性公共服务场所,义务教育就学有保障；all = 全部
        #[arg(long)]
        checklist: Option<String>,
        /// 是否检查养老有保障（参加城乡居民基本养老保险）：是 或 否
        #[arg(long)]
        check_pension: Option<String>,
        /// 养老保险参保起始年龄（周岁，默认16）
        #[arg(long)]
        pension_age: Option<u32>,
        /// 依据（文件名称、文号）
        #[arg(long)]
        source: String,
        /// 贫困线低于上一年时仍然保存（已核对无误）
        #[arg(long)]
        confirm_lower: bool,
        #[arg(long)]
        json: bool,
    },
    /// 首次建档年度：建档日期早于该年的户提示核对（县里设定，同步到全县各台电脑）。不带参数时显示现行年度
    FilingYear {
        #[arg(long)]
        db: PathBuf,
        /// 设定首次建档年度，如 2013（试点县早建档）；须同时给出 --source
        #[arg(long)]
        set: Option<i32>,
        /// 依据（文件名称、文号）
        #[arg(long)]
        source: Option<String>,
        /// 撤销县里的设定，恢复程序自带的 2014 年
        #[arg(long, conflicts_with_all = ["set", "source"])]
        clear: bool,
        #[arg(long)]
        json: bool,
    },
    /// 撤销县里对某年度的设定，恢复程序自带的标准
    Clear {
        #[arg(long)]
        db: PathBuf,
        #[arg(long)]
        year: i32,
        #[arg(long, default_value = "")]
        province: String,
    },
}

fn checklist_codes(text: &str) -> Result<Vec<String>, Failure> {
    if text.trim() == "all" || text.trim() == "全部" {
        return Ok(Vec::new());
    }
    text.split([',', '，', '、'])
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .map(|t| {
            VILLAGE_CHECK
                .entries
                .iter()
                .find(|(code, label)| *code == t || *label == t)
                .map(|(code, _)| (*code).to_owned())
                .ok_or_else(|| {
                    Failure::new(
                        format!(
                            "没有“{t}”这一核对项目。可选：{}。",
                            VILLAGE_CHECK
                                .entries
                                .iter()
                                .map(|(_, l)| *l)
                                .collect::<Vec<_>>()
                                .join("、")
                        ),
                        "unknown village check",
                    )
                })
        })
        .collect()
}

fn province_label(p: &str) -> &str {
    if p.is_empty() { "全国" } else { p }
}

pub fn run(command: StandardsCommand) -> Result<(), Failure> {
    match command {
        StandardsCommand::List { db, json } => {
            let store = open_store(&db)?;
            let all = list_standards(&store)?;
            if json {
                print_json(&all);
                return Ok(());
            }
            for s in all {
                let checklist = if s.village_checklist.is_empty() {
                    "全部".to_owned()
                } else {
                    s.village_checklist
                        .iter()
                        .filter_map(|c| VILLAGE_CHECK.label(c))
                        .collect::<Vec<_>>()
                        .join("、")
                };
                let pension = if s.check_pension {
                    format!("，检查养老保险（{}周岁起）", s.pension_age_from)
                } else {
                    String::new()
                };
                println!(
                    "{} 年 {}：贫困线 {} 元，公示 {} 天，贫困发生率低于 {}%，村退出核对 {}{}；{}（{}）",
                    s.year,
                    province_label(&s.province),
                    s.income_line,
                    s.notice_days,
                    s.incidence_limit,
                    checklist,
                    pension,
                    if s.edited {
                        "县里设定"
                    } else {
                        "程序自带"
                    },
                    s.source
                );
            }
            Ok(())
        }
        StandardsCommand::Set {
            db,
            year,
            province,
            line,
            notice_days,
            incidence_limit,
            broadcast_min,
            checklist,
            check_pension,
            pension_age,
            source,
            confirm_lower,
            json,
        } => {
            let check_pension = match check_pension.as_deref().map(str::trim) {
                None => None,
                Some("是" | "yes" | "true" | "1") => Some(true),
                Some("否" | "no" | "false" | "0") => Some(false),
                Some(other) => {
                    return Err(Failure::new(
                        format!("--check-pension “{other}”应为 是 或 否。"),
                        "bad check_pension",
                    ));
                }
            };
            let mut store = open_store(&db)?;
            let province = province.trim().to_owned();
            let all = list_standards(&store)?;
            let base = resolve(&all, year, &province).or_else(|| {
                all.iter()
                    .filter(|s| s.year < year && (s.province.is_empty() || s.province == province))
                    .max_by_key(|s| s.year)
                    .cloned()
            });
            let Some(line) = line.or(base.as_ref().map(|b| b.income_line)) else {
                return Err(Failure::new(
                    format!("{year} 年还没有贫困线，请用 --line 填写（元/人·年）。"),
                    "no line",
                ));
            };
            let base = base.unwrap_or(ExitStandard {
                year,
                province: province.clone(),
                income_line: line,
                school_age_from: 6,
                school_age_to: 15,
                check_safe_water: true,
                check_pension: false,
                pension_age_from: 16,
                notice_days: 5,
                incidence_limit: 3.0,
                broadcast_min: 99.0,
                village_checklist: Vec::new(),
                source: String::new(),
                edited: true,
            });
            let standard = ExitStandard {
                year,
                province: province.clone(),
                income_line: line,
                notice_days: notice_days.unwrap_or(base.notice_days),
                incidence_limit: incidence_limit.unwrap_or(base.incidence_limit),
                broadcast_min: broadcast_min.unwrap_or(base.broadcast_min),
                check_pension: check_pension.unwrap_or(base.check_pension),
                pension_age_from: pension_age.unwrap_or(base.pension_age_from),
                village_checklist: match checklist {
                    Some(text) => checklist_codes(&text)?,
                    None => base.village_checklist.clone(),
                },
                source,
                edited: true,
                ..base
            };
            match set_standard(&mut store, &standard, confirm_lower) {
                Err(ExitError::LineFalls { province, fall }) => Err(Failure::new(
                    format!(
                        "{}如确认无误，加 --confirm-lower 再运行一次。",
                        fall.message_zh(&province)
                    ),
                    "income_line_falls",
                )),
                Err(e) => Err(e.into()),
                Ok(()) => {
                    if json {
                        print_json(&standard);
                    } else {
                        println!(
                            "已设定 {} 年 {} 脱贫标准：贫困线 {} 元。同步后全县各台电脑按此评估。",
                            year,
                            province_label(&province),
                            line
                        );
                    }
                    Ok(())
                }
            }
        }
        StandardsCommand::FilingYear {
            db,
            set,
            source,
            clear,
            json,
        } => {
            let mut store = open_store(&db)?;
            if clear {
                if clear_first_filing_year(&mut store)? {
                    println!("已撤销县里设定的首次建档年度，恢复程序自带的 2014 年。");
                } else {
                    println!("县里没有设定首次建档年度，无需撤销。");
                }
            } else if let Some(year) = set {
                set_first_filing_year(&mut store, year, source.as_deref().unwrap_or(""))?;
                println!(
                    "已设定首次建档年度 {year} 年。同步后全县各台电脑对早于 {year} 年的建档日期提示核对。"
                );
            } else if source.is_some() {
                return Err(Failure::new(
                    "--source 要和 --set 年度一起给出。".to_owned(),
                    "source without year",
                ));
            }
            let settings = county_settings(&store)?;
            if json {
                print_json(&settings);
            } else if !clear && set.is_none() {
                let first = &settings.first_filing_year;
                println!(
                    "首次建档年度 {} 年：{}（{}）",
                    first.year,
                    if first.edited {
                        "县里设定"
                    } else {
                        "程序自带"
                    },
                    first.source
                );
            }
            Ok(())
        }
        StandardsCommand::Clear { db, year, province } => {
            let mut store = open_store(&db)?;
            if clear_standard(&mut store, year, &province)? {
                println!(
                    "已撤销 {year} 年 {} 的县设定，恢复程序自带的标准。",
                    province_label(province.trim())
                );
            } else {
                println!(
                    "{year} 年 {} 没有县里设定的标准，无需撤销。",
                    province_label(province.trim())
                );
            }
            Ok(())
        }
    }
}
