//! The exit procedure's printed forms, through the cards PDF engine:
//!
//! - [`double_confirmation_pdf`]: one household's 《贫困户脱贫销号双认定表》 (or, when it refused
//!   to sign, 《贫困户帮扶情况认定表》) on A4 portrait, ready for the five signatures;
//! - [`notice_list_pdf`]: a village's 拟脱贫户公示名单 for a year on A4 landscape, the header
//!   repeated on every page.

use std::collections::HashMap;

use chrono::{Datelike, NaiveDate};
use uuid::Uuid;

use super::procedure::{Phase, Step, history, procedure_state};
use super::sheet::{DoubleConfirmationSheet, double_confirmation_sheet};
use super::{ExitError, village_by_code};
use crate::cards::font::{CjkFont, Weight};
use crate::cards::pdf::{Align, Canvas, Cell, Document, LINE_HEIGHT, MM, PageSize, RowLayout};
use crate::cards::{CardError, NATIONAL_HOTLINE};
use crate::error::UserFacing;
use crate::model::{ExitStep, Household, codes};
use crate::store::{Filter, Store, StoreError};

const MARGIN: f32 = 15.0 * MM;
const SIZE: f32 = 10.5;
const SMALL: f32 = 9.0;
const TITLE_SIZE: f32 = 18.0;
/// How tall a signature row is, room for a hand signature and a seal.
const SIGN_ROW: f32 = 14.0 * MM;

/// `ExitStep::action` codes (see `codes::EXIT_ACTION`).
const ACTION_RECORD: &str = "1";
const ACTION_SEND_BACK: &str = "2";
const ACTION_RETURN: &str = "3";
const RESULT_DISAGREE: &str = "2";

#[derive(Debug, thiserror::Error)]
pub enum ExitPrintError {
    #[error(transparent)]
    Exit(#[from] ExitError),
    #[error(transparent)]
    Card(#[from] CardError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("village {village}: no household proposed for exit in {year}")]
    NoProposedHouseholds { village: String, year: i32 },
    #[error(transparent)]
    File(#[from] crate::files::FileWriteError),
}

impl UserFacing for ExitPrintError {
    fn kind(&self) -> &'static str {
        match self {
            ExitPrintError::Exit(e) => e.kind(),
            ExitPrintError::Card(e) => e.kind(),
            ExitPrintError::Store(e) => e.kind(),
            ExitPrintError::NoProposedHouseholds { .. } => "no_proposed_households",
            ExitPrintError::File(e) => e.kind(),
        }
    }

    fn message_zh(&self) -> String {
        match self {
            ExitPrintError::Exit(e) => e.message_zh(),
            ExitPrintError::Card(e) => e.message_zh(),
            ExitPrintError::Store(e) => e.message_zh(),
            ExitPrintError::NoProposedHouseholds { village, year } => format!(
                "{village}{year}年还没有经村两委商议同意的拟脱贫户，没有公示名单可打印。\
                 请先为各户办理入户调查和村两委商议。"
            ),
            ExitPrintError::File(e) => e.message_zh(),
        }
    }
}

fn date_zh(d: NaiveDate) -> String {
    format!("{}年{}月{}日", d.year(), d.month(), d.day())
}

/// An amount of money as forms print it: whole yuan without decimals, otherwise two.
fn yuan(v: f64) -> String {
    if v.fract() == 0.0 {
        format!("{v:.0}")
    } else {
        format!("{v:.2}")
    }
}

/// The blank a person fills in by hand.
const DATE_BLANK: &str = "　　　　年　　月　　日";

/// One piece of a form laid out top to bottom.
#[derive(Debug, Clone)]
enum Block {
    /// One line of text.
    Line {
        text: String,
        size: f32,
        weight: Weight,
        align: Align,
    },
    /// A ruled table row at least `min` tall; rows taller than their text are never split.
    Row {
        row: RowLayout,
        min: f32,
    },
    Gap(f32),
    /// Starts a new page unless this much room is left (keeps a heading with its table and
    /// the signatures together).
    KeepRoom(f32),
}

impl Block {
    fn height(&self) -> f32 {
        match self {
            Block::Line { size, .. } => size * LINE_HEIGHT,
            Block::Row { row, min } => row.height().max(*min),
            Block::Gap(h) => *h,
            Block::KeepRoom(_) => 0.0,
        }
    }
}

/// Wrapped text as one `Line` block per line.
fn lines(
    font: &CjkFont,
    text: &str,
    size: f32,
    weight: Weight,
    align: Align,
    width: f32,
) -> Vec<Block> {
    font.wrap(text, size, weight, width)
        .into_iter()
        .map(|text| Block::Line {
            text,
            size,
            weight,
            align,
        })
        .collect()
}

/// Places blocks on pages between `first_top` (page 1) or `top` (later pages) and `bottom`.
/// A row that does not fit is split at its last fitting line when at least two fit, otherwise
/// it moves to the next page; nothing is ever clipped.
fn flow(blocks: Vec<Block>, first_top: f32, top: f32, bottom: f32) -> Vec<Vec<(f32, Block)>> {
    let mut pages: Vec<Vec<(f32, Block)>> = vec![Vec::new()];
    let mut y = first_top;
    let mut queue: std::collections::VecDeque<Block> = blocks.into();
    while let Some(block) = queue.pop_front() {
        let page_empty = pages.last().is_none_or(Vec::is_empty);
        match block {
            Block::KeepRoom(h) => {
                if !page_empty && bottom - y < h {
                    pages.push(Vec::new());
                    y = top;
                }
                continue;
            }
            Block::Gap(h) => {
                if !page_empty {
                    y = (y + h).min(bottom);
                }
                continue;
            }
            _ => {}
        }
        let h = block.height();
        if y + h <= bottom || (page_empty && !matches!(block, Block::Row { .. })) {
            if let Some(page) = pages.last_mut() {
                page.push((y, block));
            }
            y += h;
            continue;
        }
        if let Block::Row { row, min } = &block {
            let fitting = row.lines_fitting(bottom - y);
            let splittable = row.height() >= *min && fitting < row.line_count();
            if splittable && (fitting >= 2 || (page_empty && fitting > 0)) {
                let (head, tail) = row.split(fitting);
                if let Some(page) = pages.last_mut() {
                    page.push((
                        y,
                        Block::Row {
                            row: head,
                            min: 0.0,
                        },
                    ));
                }
                queue.push_front(Block::Row {
                    row: tail,
                    min: 0.0,
                });
            } else if page_empty {
                // Taller than a whole page and not splittable: print it as it is.
                if let Some(page) = pages.last_mut() {
                    page.push((y, block.clone()));
                }
                y += h;
                continue;
            } else {
                queue.push_front(block.clone());
            }
        }
        pages.push(Vec::new());
        y = top;
    }
    if pages.len() > 1 && pages.last().is_some_and(Vec::is_empty) {
        pages.pop();
    }
    pages
}

fn draw(c: &mut Canvas<'_, '_>, page: PageSize, y: f32, block: &Block) {
    match block {
        Block::Line {
            text,
            size,
            weight,
            align,
        } => {
            let x = match align {
                Align::Left => MARGIN,
                Align::Center => page.width / 2.0,
                Align::Right => page.width - MARGIN,
            };
            c.text(x, y, *size, *weight, *align, text);
        }
        Block::Row { row, min } => c.row(MARGIN, y, row, row.height().max(*min)),
        Block::Gap(_) | Block::KeepRoom(_) => {}
    }
}

fn footer(c: &mut Canvas<'_, '_>, page: PageSize, n: usize, total: usize) {
    c.text(
        page.width / 2.0,
        page.height - MARGIN + 2.0 * MM,
        SMALL,
        Weight::Regular,
        Align::Center,
        &format!("第 {n} 页　共 {total} 页"),
    );
}

/// The records of the household's current round, in order.
fn current_round(store: &Store, household_id: Uuid) -> Result<Vec<ExitStep>, ExitError> {
    let rows = history(store, household_id)?;
    let round = rows.iter().filter_map(|r| r.round).max().unwrap_or(1);
    Ok(rows
        .into_iter()
        .filter(|r| r.round == Some(round))
        .collect())
}

fn yes_no(v: bool) -> &'static str {
    if v { "是" } else { "否" }
}

/// What a record says besides its step, date and people, as one text.
fn record_details(r: &ExitStep) -> String {
    let label = |list: &codes::CodeList, code: &str| list.label(code).unwrap_or("").to_owned();
    let mut parts: Vec<String> = Vec::new();
    if let Some(signed) = r.household_signed {
        parts.push(if signed {
            "贫困户签字认可".into()
        } else {
            "贫困户未签字认可".into()
        });
    }
    if let Some(v) = r.food_secure {
        parts.push(format!("不愁吃：{}", yes_no(v)));
    }
    if let Some(v) = r.clothing_secure {
        parts.push(format!("不愁穿：{}", yes_no(v)));
    }
    if !r.vote_type.is_empty() {
        parts.push(format!(
            "表决方式：{}",
            label(&codes::VOTE_TYPE, &r.vote_type)
        ));
    }
    if !r.vote_result.is_empty() {
        parts.push(format!(
            "结果：{}",
            label(&codes::STEP_RESULT, &r.vote_result)
        ));
    }
    if let Some(v) = r.work_team_present {
        parts.push(format!("驻村工作队参加：{}", yes_no(v)));
    }
    match (r.notice_start, r.notice_end) {
        (Some(s), Some(e)) => parts.push(format!("公示期：{}至{}", date_zh(s), date_zh(e))),
        (Some(s), None) => parts.push(format!("公示自{}起", date_zh(s))),
        _ => {}
    }
    if !r.objections.is_empty() {
        parts.push(format!("异议：{}", r.objections));
    }
    if !r.objection_handling.is_empty() {
        parts.push(format!("异议处理：{}", r.objection_handling));
    }
    if !r.reason.is_empty() {
        parts.push(format!("原因：{}", r.reason));
    }
    if !r.signatures.is_empty() {
        parts.push(format!("签字：{}", r.signatures));
    }
    if !r.notes.is_empty() {
        parts.push(format!("备注：{}", r.notes));
    }
    parts.join("；")
}

fn record_step_label(r: &ExitStep) -> String {
    let step = codes::EXIT_STEP.label(&r.step).unwrap_or("");
    match r.action.as_str() {
        ACTION_SEND_BACK => format!("{step}（退回）"),
        ACTION_RETURN => "返贫".into(),
        _ => step.into(),
    }
}

/// One household's 双认定表 (or 帮扶情况认定表) for a year, as a PDF.
pub fn double_confirmation_pdf(
    store: &Store,
    household_id: Uuid,
    year: i32,
) -> Result<Vec<u8>, ExitPrintError> {
    let sheet = double_confirmation_sheet(store, household_id, year)?;
    let records = current_round(store, household_id)?;
    let font = CjkFont::locate()?;
    let page = PageSize::A4;
    let blocks = sheet_blocks(&font, &sheet, &records, page.width - 2.0 * MARGIN);
    let first_top = MARGIN;
    let top = MARGIN + SMALL * LINE_HEIGHT + 2.0 * MM;
    let bottom = page.height - MARGIN - 3.0 * MM;
    let pages = flow(blocks, first_top, top, bottom);
    let mut doc = Document::new(&font, sheet.title);
    let total = pages.len();
    let running = format!(
        "{}（续）　户主：{}　户编号：{}",
        sheet.title, sheet.head_name, sheet.household_code
    );
    for (n, placed) in pages.iter().enumerate() {
        doc.page(page, |c| {
            if n > 0 {
                c.text(
                    MARGIN,
                    MARGIN,
                    SMALL,
                    Weight::Regular,
                    Align::Left,
                    &running,
                );
            }
            for (y, block) in placed {
                draw(c, page, *y, block);
            }
            footer(c, page, n + 1, total);
        })?;
    }
    Ok(doc.finish()?)
}

fn sheet_blocks(
    font: &CjkFont,
    s: &DoubleConfirmationSheet,
    records: &[ExitStep],
    width: f32,
) -> Vec<Block> {
    let row = |cells: Vec<Cell>| Block::Row {
        row: RowLayout::new(font, cells, SIZE),
        min: 0.0,
    };
    let heading = |text: &str| {
        vec![
            Block::KeepRoom(SIZE * LINE_HEIGHT * 4.0),
            Block::Gap(2.5 * MM),
            Block::Line {
                text: text.into(),
                size: 11.5,
                weight: Weight::Bold,
                align: Align::Left,
            },
            Block::Gap(1.0 * MM),
        ]
    };
    let lab = 30.0 * MM;
    let half = (width - 2.0 * lab) / 2.0;
    let wide = width - lab;
    let or_blank = |t: &str| {
        if t.is_empty() {
            "—".to_owned()
        } else {
            t.to_owned()
        }
    };

    let mut b = lines(
        font,
        s.title,
        TITLE_SIZE,
        Weight::Bold,
        Align::Center,
        width,
    );
    b.push(Block::Line {
        text: format!("（{}年度）", s.year),
        size: SIZE,
        weight: Weight::Regular,
        align: Align::Center,
    });
    b.push(Block::Gap(2.0 * MM));
    let mut place = vec![
        format!("县（市、区）：{}", or_blank(&s.county)),
        format!("乡（镇）：{}", or_blank(&s.township)),
        format!("村：{}", or_blank(&s.village)),
    ];
    if !s.group_name.is_empty() {
        place.push(format!("组：{}", s.group_name));
    }
    let place = place.join("　　");
    b.extend(lines(
        font,
        &place,
        SIZE,
        Weight::Regular,
        Align::Left,
        width,
    ));

    b.extend(heading("一、家庭基本情况"));
    b.push(row(vec![
        Cell::label(lab, "户主姓名"),
        Cell::value(half, or_blank(&s.head_name)),
        Cell::label(lab, "户编号"),
        Cell::value(half, &s.household_code),
    ]));
    b.push(row(vec![
        Cell::label(lab, "家庭人口"),
        Cell::value(half, format!("{}人", s.family_size)),
        Cell::label(lab, "贫困户属性"),
        Cell::value(half, or_blank(&s.attribute)),
    ]));
    b.push(row(vec![
        Cell::label(lab, "主要致贫原因"),
        Cell::value(half, or_blank(&s.main_cause)),
        Cell::label(lab, "住址"),
        Cell::value(half, or_blank(&s.address)),
    ]));
    let members = s
        .members
        .iter()
        .map(|m| {
            if m.relation.is_empty() {
                m.name.clone()
            } else {
                format!("{}（{}）", m.name, m.relation)
            }
        })
        .collect::<Vec<_>>()
        .join("、");
    b.push(row(vec![
        Cell::label(lab, "家庭成员"),
        Cell::value(wide, or_blank(&members)),
    ]));
    let helpers = s
        .helpers
        .iter()
        .map(|h| {
            let extra: Vec<&str> = [h.unit.as_str(), h.phone.as_str()]
                .into_iter()
                .filter(|t| !t.is_empty())
                .collect();
            if extra.is_empty() {
                h.name.clone()
            } else {
                format!("{}（{}）", h.name, extra.join("，"))
            }
        })
        .collect::<Vec<_>>()
        .join("；");
    b.push(row(vec![
        Cell::label(lab, "帮扶责任人"),
        Cell::value(wide, or_blank(&helpers)),
    ]));
    let measures = s
        .measures
        .iter()
        .map(|m| {
            let mut t = String::new();
            if !m.path.is_empty() {
                t.push_str(&m.path);
                t.push('：');
            }
            t.push_str(&m.description);
            if let Some(a) = m.amount {
                t.push_str(&format!("（{}元）", yuan(a)));
            }
            t
        })
        .collect::<Vec<_>>()
        .join("；");
    b.push(row(vec![
        Cell::label(lab, format!("{}年帮扶措施", s.year)),
        Cell::value(wide, or_blank(&measures)),
    ]));

    b.extend(heading(&format!("二、{}年度收入情况", s.year)));
    let money =
        |v: Option<f64>| v.map_or_else(|| "无收入记录".to_owned(), |v| format!("{}元", yuan(v)));
    b.push(row(vec![
        Cell::label(lab, "家庭纯收入"),
        Cell::value(half, money(s.income_net)),
        Cell::label(lab, "人均纯收入"),
        Cell::value(half, money(s.income_per_capita)).bold(),
    ]));
    let versus = match s.income_per_capita {
        Some(pc) if pc > s.income_line => {
            format!("人均纯收入高于贫困线 {} 元", yuan(pc - s.income_line))
        }
        Some(_) => "人均纯收入未超过贫困线".to_owned(),
        None => "缺少当年收入记录，无法比较".to_owned(),
    };
    b.push(row(vec![
        Cell::label(lab, "当年贫困线"),
        Cell::value(half, format!("{}元", yuan(s.income_line))),
        Cell::label(lab, "比较"),
        Cell::value(half, versus),
    ]));

    b.extend(heading("三、“一超两不愁三保障”及安全饮水认定"));
    let cols = [36.0 * MM, 52.0 * MM, 18.0 * MM];
    let reason_w = width - cols.iter().sum::<f32>();
    b.push(row(vec![
        Cell::label(cols[0], "认定内容").bold(),
        Cell::label(cols[1], "认定依据").bold(),
        Cell::label(cols[2], "认定结果").bold(),
        Cell::label(reason_w, "说明").bold(),
    ]));
    for check in &s.checks {
        let data = check
            .data
            .iter()
            .map(|d| format!("{}：{}", d.label, d.value))
            .collect::<Vec<_>>()
            .join("；");
        let result = Cell::value(cols[2], check.status_label).centered();
        let result = if check.status == super::CheckStatus::Met {
            result
        } else {
            result.bold()
        };
        b.push(row(vec![
            Cell::label(cols[0], check.label),
            Cell::value(cols[1], data),
            result,
            Cell::value(reason_w, &check.reason),
        ]));
    }
    b.push(row(vec![
        Cell::label(cols[0], "综合认定").bold(),
        Cell::value(
            width - cols[0],
            if s.meets_standard {
                "达到脱贫标准"
            } else {
                "未达到脱贫标准"
            },
        )
        .bold(),
    ]));

    b.extend(heading("四、退出程序办理情况"));
    let cols = [30.0 * MM, 30.0 * MM, 45.0 * MM];
    let detail_w = width - cols.iter().sum::<f32>();
    b.push(row(vec![
        Cell::label(cols[0], "程序步骤").bold(),
        Cell::label(cols[1], "日期").bold(),
        Cell::label(cols[2], "参加人员").bold(),
        Cell::label(detail_w, "办理情况及签字").bold(),
    ]));
    if records.is_empty() {
        b.push(row(vec![
            Cell::value(width, "（尚未办理退出程序）").centered(),
        ]));
    }
    for r in records {
        b.push(row(vec![
            Cell::value(cols[0], record_step_label(r)).centered(),
            Cell::value(cols[1], r.step_date.map(date_zh).unwrap_or_default()).centered(),
            Cell::value(cols[2], &r.people),
            Cell::value(detail_w, record_details(r)),
        ]));
    }

    // The statement and the signatures stay together on one page.
    let sign_labels = [
        "户主签字",
        "帮扶责任人签字",
        "驻村工作队签字",
        "村两委签字（盖章）",
        "乡镇签字（盖章）",
    ];
    let statement = match (s.household_refused, s.income_per_capita) {
        (true, _) => format!(
            "该户户主对脱贫认定未签字认可，本表作为{}年度帮扶情况认定，由帮扶责任人、驻村工作队、村两委和乡镇签字确认。",
            s.year
        ),
        (false, Some(pc)) => format!(
            "经入户调查核实，该户{}年度人均纯收入{}元，{}当年贫困线{}元，{}“一超两不愁三保障”脱贫标准。以上情况属实，户主及帮扶各方签字确认。",
            s.year,
            yuan(pc),
            if pc > s.income_line {
                "高于"
            } else {
                "未超过"
            },
            yuan(s.income_line),
            if s.meets_standard {
                "达到"
            } else {
                "未达到"
            },
        ),
        (false, None) => format!(
            "经入户调查核实，该户{}年度{}“一超两不愁三保障”脱贫标准。以上情况属实，户主及帮扶各方签字确认。",
            s.year,
            if s.meets_standard {
                "达到"
            } else {
                "未达到"
            },
        ),
    };
    let statement_lines = lines(font, &statement, SIZE, Weight::Regular, Align::Left, width);
    let keep = (statement_lines.len() as f32 + 3.0) * SIZE * LINE_HEIGHT
        + sign_labels.len() as f32 * SIGN_ROW
        + 6.0 * MM;
    b.push(Block::KeepRoom(keep));
    b.push(Block::Gap(2.5 * MM));
    b.push(Block::Line {
        text: "五、认定意见及签字".into(),
        size: 11.5,
        weight: Weight::Bold,
        align: Align::Left,
    });
    b.push(Block::Gap(1.0 * MM));
    b.extend(statement_lines);
    b.push(Block::Gap(1.5 * MM));
    let sign_w = [38.0 * MM, 56.0 * MM];
    let blank_w = width - sign_w.iter().sum::<f32>();
    for label in sign_labels {
        b.push(Block::Row {
            row: RowLayout::new(
                font,
                vec![
                    Cell::label(sign_w[0], label),
                    Cell::value(blank_w, ""),
                    Cell::value(sign_w[1], DATE_BLANK).centered(),
                ],
                SIZE,
            ),
            min: SIGN_ROW,
        });
    }
    b
}

/// A household on the notice list.
struct Proposed {
    code: String,
    head: String,
    size: usize,
    per_capita: Option<f64>,
    helpers: String,
    notice: Option<(NaiveDate, Option<NaiveDate>)>,
}

/// The households of a village proposed for exit in `year`: in their current round, 村两委商议
/// agreed (and nothing sent them back since), dated in `year`.
fn proposed_households(
    store: &Store,
    village_id: Uuid,
    year: i32,
) -> Result<Vec<Proposed>, ExitPrintError> {
    let mut households: Vec<Household> = store
        .read::<Household>(Filter::All)?
        .into_iter()
        .filter(|h| h.village_id == Some(village_id))
        .collect();
    households.sort_by(|a, b| a.code.cmp(&b.code));
    let mut out = Vec::new();
    for h in households {
        let state = procedure_state(store, h.id)?;
        let past_deliberation = state.done.is_some_and(|d| d >= Step::Deliberation);
        if !past_deliberation || !matches!(state.phase, Phase::InProgress | Phase::Exited) {
            continue;
        }
        let records = current_round(store, h.id)?;
        let last_of = |step: Step| {
            records.iter().rev().find(|r| {
                r.action == ACTION_RECORD
                    && r.step == step.code()
                    && r.vote_result != RESULT_DISAGREE
            })
        };
        let in_year = last_of(Step::Deliberation)
            .and_then(|r| r.step_date)
            .is_some_and(|d| d.year() == year);
        if !in_year {
            continue;
        }
        let notice =
            last_of(Step::PublicNotice).and_then(|r| r.notice_start.map(|s| (s, r.notice_end)));
        let sheet = double_confirmation_sheet(store, h.id, year)?;
        out.push(Proposed {
            code: h.code,
            head: sheet.head_name,
            size: sheet.family_size,
            per_capita: sheet.income_per_capita,
            helpers: sheet
                .helpers
                .iter()
                .map(|x| x.name.as_str())
                .collect::<Vec<_>>()
                .join("、"),
            notice,
        });
    }
    Ok(out)
}

/// The notice period most of the listed households recorded, if any did.
fn notice_period(list: &[Proposed]) -> Option<(NaiveDate, Option<NaiveDate>)> {
    let mut counts: HashMap<(NaiveDate, Option<NaiveDate>), usize> = HashMap::new();
    for p in list {
        if let Some(n) = p.notice {
            *counts.entry(n).or_default() += 1;
        }
    }
    counts
        .into_iter()
        .max_by_key(|(period, count)| (*count, std::cmp::Reverse(*period)))
        .map(|(period, _)| period)
}

/// A village's 拟脱贫户公示名单 for `year`, as a PDF.
pub fn notice_list_pdf(
    store: &Store,
    village_code: &str,
    year: i32,
) -> Result<Vec<u8>, ExitPrintError> {
    let village = village_by_code(store, village_code)?;
    let list = proposed_households(store, village.id, year)?;
    let mut name = if village.name.is_empty() {
        village.code.clone()
    } else {
        village.name.clone()
    };
    if !name.ends_with('村') {
        name.push('村');
    }
    if list.is_empty() {
        return Err(ExitPrintError::NoProposedHouseholds {
            village: name,
            year,
        });
    }
    let font = CjkFont::locate()?;
    let page = PageSize::A4_LANDSCAPE;
    let width = page.width - 2.0 * MARGIN;
    let title = format!("{name}{year}年拟脱贫户公示名单");
    let people: usize = list.iter().map(|p| p.size).sum();
    let period = match notice_period(&list) {
        Some((start, Some(end))) => format!(
            "公示期：{}至{}（共{}天）",
            date_zh(start),
            date_zh(end),
            (end - start).num_days() + 1
        ),
        Some((start, None)) => format!("公示期：自{}起", date_zh(start)),
        None => format!("公示期：{DATE_BLANK}至{DATE_BLANK}"),
    };
    let intro = format!(
        "经入户调查、村两委商议，以下{}户{}人达到“一超两不愁三保障”脱贫标准，拟于{}年脱贫退出，现予公示。",
        list.len(),
        people,
        year
    );
    let mut header_lines = vec![(title.clone(), TITLE_SIZE, Weight::Bold, Align::Center)];
    for line in font.wrap(&intro, SIZE, Weight::Regular, width) {
        header_lines.push((line, SIZE, Weight::Regular, Align::Left));
    }
    header_lines.push((period, SIZE, Weight::Regular, Align::Left));
    let header_h: f32 = header_lines
        .iter()
        .map(|(_, size, _, _)| size * LINE_HEIGHT)
        .sum::<f32>()
        + 2.0 * MM;

    let cols = [16.0, 52.0, 36.0, 30.0, 40.0].map(|w| w * MM);
    let helper_w = width - cols.iter().sum::<f32>();
    let table_header = RowLayout::new(
        &font,
        vec![
            Cell::label(cols[0], "序号").bold(),
            Cell::label(cols[1], "户编号").bold(),
            Cell::label(cols[2], "户主").bold(),
            Cell::label(cols[3], "家庭人口（人）").bold(),
            Cell::label(cols[4], "人均纯收入（元）").bold(),
            Cell::label(helper_w, "帮扶责任人").bold(),
        ],
        SIZE,
    );
    let rows: Vec<RowLayout> = list
        .iter()
        .enumerate()
        .map(|(i, p)| {
            RowLayout::new(
                &font,
                vec![
                    Cell::value(cols[0], (i + 1).to_string()).centered(),
                    Cell::value(cols[1], &p.code).centered(),
                    Cell::value(cols[2], &p.head).centered(),
                    Cell::value(cols[3], p.size.to_string()).centered(),
                    Cell::value(cols[4], p.per_capita.map(yuan).unwrap_or_default()).centered(),
                    Cell::value(helper_w, &p.helpers),
                ],
                SIZE,
            )
        })
        .collect();

    let closing = format!(
        "公示期间，群众如有异议，请向村委会或乡（镇）人民政府反映。村委会联系人：＿＿＿＿＿＿　联系电话：＿＿＿＿＿＿＿＿　监督举报电话：{NATIONAL_HOTLINE}"
    );
    let closing_lines = font.wrap(&closing, SIZE, Weight::Regular, width);
    let closing_h = (closing_lines.len() as f32 + 3.0) * SIZE * LINE_HEIGHT + 6.0 * MM;

    let table_top = MARGIN + header_h;
    let bottom = page.height - MARGIN - 3.0 * MM;
    let room = bottom - table_top;
    let mut pages = crate::cards::pdf::paginate(rows, table_header.height(), room);
    // The closing lines and the seal follow the table on its last page: move rows over until
    // they fit.
    let fits = |rows: &[RowLayout]| {
        table_header.height() + rows.iter().map(RowLayout::height).sum::<f32>() + closing_h <= room
    };
    let mut moved: Vec<RowLayout> = Vec::new();
    let mut closing_alone = false;
    if let Some(last) = pages.last_mut() {
        while !fits(last) && last.len() > 1 {
            if let Some(row) = last.pop() {
                moved.insert(0, row);
            }
        }
        closing_alone = !fits(last);
    }
    if !moved.is_empty() {
        pages.push(moved);
    } else if closing_alone {
        pages.push(Vec::new());
    }

    let seal_date = match notice_period(&list) {
        Some((start, _)) => date_zh(start),
        None => DATE_BLANK.to_owned(),
    };
    let mut doc = Document::new(&font, &title);
    let total = pages.len();
    for (n, page_rows) in pages.iter().enumerate() {
        doc.page(page, |c| {
            let mut y = MARGIN;
            for (text, size, weight, align) in &header_lines {
                let x = if *align == Align::Center {
                    page.width / 2.0
                } else {
                    MARGIN
                };
                c.text(x, y, *size, *weight, *align, text);
                y += size * LINE_HEIGHT;
            }
            let mut y = table_top;
            c.row(MARGIN, y, &table_header, table_header.height());
            y += table_header.height();
            for row in page_rows {
                c.row(MARGIN, y, row, row.height());
                y += row.height();
            }
            if n + 1 == total {
                y += 3.0 * MM;
                for line in &closing_lines {
                    c.text(MARGIN, y, SIZE, Weight::Regular, Align::Left, line);
                    y += SIZE * LINE_HEIGHT;
                }
                y += 3.0 * MM + SIZE * LINE_HEIGHT;
                let seal = page.width - MARGIN - 45.0 * MM;
                c.text(
                    seal,
                    y,
                    SIZE,
                    Weight::Regular,
                    Align::Center,
                    "村委会（盖章）",
                );
                y += SIZE * LINE_HEIGHT;
                c.text(seal, y, SIZE, Weight::Regular, Align::Center, &seal_date);
            }
            footer(c, page, n + 1, total);
        })?;
    }
    Ok(doc.finish()?)
}
