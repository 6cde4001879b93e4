//! The 档案目录 of one household: every photo and scan in its archive, under the record it is
//! attached to (exit step, visit, measure), as a ruled A4 table with the header repeated on
//! each page, for the household's paper file. Each line names the file by the first 16 digits
//! of its SHA-256, so a printed list can be checked against the files a laptop holds. Under
//! the household line it names the village's 驻村工作队 with their 驻村起止日期, past members
//! included: the people who made and signed the records the archive holds.

use super::card::{NO_HEAD, households_of};
use super::font::{CjkFont, Weight};
use super::pdf::{Align, Cell, Document, LINE_HEIGHT, MM, PageSize, RowLayout, paginate};
use super::{CardError, CardRequest};
use crate::archive::household_attachments;
use crate::model::Member;
use crate::model::codes;
use crate::store::{Filter, Store};

const MARGIN: f32 = 15.0 * MM;
const SIZE: f32 = 9.5;
const TITLE_SIZE: f32 = 16.0;

/// The 档案目录 of the household with this code, as a PDF.
pub fn archive_list_pdf(store: &Store, household_code: &str) -> Result<Vec<u8>, CardError> {
    let request = CardRequest {
        household: Some(household_code.to_owned()),
        ..CardRequest::default()
    };
    let household = households_of(store, &request)?
        .into_iter()
        .next()
        .ok_or(CardError::NothingToPrint)?;
    let head = store
        .read::<Member>(Filter::OfHousehold(household.id))?
        .into_iter()
        .find(|m| m.relation == codes::RELATION_HEAD)
        .map_or_else(|| NO_HEAD.to_owned(), |m| m.name);
    let entries = household_attachments(store, household.id).map_err(|e| match e {
        crate::archive::ArchiveError::Store(e) => CardError::from(e),
        // Listing reads rows only; nothing else can fail.
        _ => CardError::NothingToPrint,
    })?;

    let font = CjkFont::locate()?;
    let page = PageSize::A4;
    let width = page.width - 2.0 * MARGIN;
    let team = household
        .village_id
        .map(|v| crate::team::village_team(store, v, store.today()))
        .transpose()
        .map_err(|e| match e {
            crate::team::TeamError::Store(e) => CardError::from(e),
            // Reading the team reads rows only; nothing else can fail.
            _ => CardError::NothingToPrint,
        })?
        .unwrap_or_default();
    let team_lines = font.wrap(&team_line(&team), SIZE, Weight::Regular, width);
    let info = format!(
        "户主：{head}　　户编号：{}　　共 {} 份",
        household.code,
        entries.len()
    );
    let columns = [
        10.0 * MM,
        44.0 * MM,
        20.0 * MM,
        0.0,
        32.0 * MM,
        16.0 * MM,
        34.0 * MM,
    ];
    let caption_w = width - columns.iter().sum::<f32>();
    let widths = [
        columns[0], columns[1], columns[2], caption_w, columns[4], columns[5], columns[6],
    ];
    let header = RowLayout::new(
        &font,
        [
            "序号",
            "所附记录",
            "材料类别",
            "说明",
            "文件名",
            "大小",
            "文件指纹",
        ]
        .iter()
        .zip(widths)
        .map(|(label, w)| Cell::label(w, *label).bold())
        .collect(),
        SIZE,
    );
    let mut rows: Vec<RowLayout> = entries
        .iter()
        .enumerate()
        .map(|(i, e)| {
            let size = if e.size < 1024 * 1024 {
                format!("{} KB", e.size.div_ceil(1024))
            } else {
                format!("{:.1} MB", e.size as f64 / (1024.0 * 1024.0))
            };
            let file = if e.held {
                e.file_name.clone()
            } else {
                format!("{}（文件未到本机）", e.file_name)
            };
            RowLayout::new(
                &font,
                vec![
                    Cell::value(widths[0], (i + 1).to_string()).centered(),
                    Cell::value(widths[1], &e.target_label),
                    Cell::value(widths[2], &e.kind).centered(),
                    Cell::value(widths[3], &e.caption),
                    Cell::value(widths[4], file),
                    Cell::value(widths[5], size).centered(),
                    Cell::value(widths[6], e.sha256.get(..16).unwrap_or(&e.sha256)),
                ],
                SIZE,
            )
        })
        .collect();
    if rows.is_empty() {
        rows.push(RowLayout::new(
            &font,
            vec![Cell::value(width, "（本户暂无档案）").centered()],
            SIZE,
        ));
    }

    let team_top = MARGIN + TITLE_SIZE * LINE_HEIGHT + SIZE * LINE_HEIGHT;
    let table_top = team_top + team_lines.len() as f32 * SIZE * LINE_HEIGHT + 3.0 * MM;
    let bottom = page.height - MARGIN - SIZE * LINE_HEIGHT;
    let pages = paginate(rows, header.height(), bottom - table_top);

    let mut doc = Document::new(&font, "档案目录");
    let total = pages.len();
    for (n, page_rows) in pages.iter().enumerate() {
        doc.page(page, |c| {
            c.text(
                page.width / 2.0,
                MARGIN,
                TITLE_SIZE,
                Weight::Bold,
                Align::Center,
                "档案目录",
            );
            c.text(
                MARGIN,
                MARGIN + TITLE_SIZE * LINE_HEIGHT,
                SIZE,
                Weight::Regular,
                Align::Left,
                &info,
            );
            for (i, line) in team_lines.iter().enumerate() {
                c.text(
                    MARGIN,
                    team_top + i as f32 * SIZE * LINE_HEIGHT,
                    SIZE,
                    Weight::Regular,
                    Align::Left,
                    line,
                );
            }
            let mut y = table_top;
            c.row(MARGIN, y, &header, header.height());
            y += header.height();
            for row in page_rows {
                c.row(MARGIN, y, row, row.height());
                y += row.height();
            }
            c.text(
                page.width / 2.0,
                page.height - MARGIN - SIZE * LINE_HEIGHT,
                9.0,
                Weight::Regular,
                Align::Center,
                &format!("第 {} 页　共 {total} 页", n + 1),
            );
        })?;
    }
    doc.finish()
}

/// "驻村工作队：第一书记 王明（县农业农村局，2024-03-01 起）；工作队员 李华（…，2023-01-05 至
/// 2024-12-31）": the whole team, serving members first.
fn team_line(team: &[crate::team::TeamEntry]) -> String {
    if team.is_empty() {
        return "驻村工作队：（本村尚未登记）".to_owned();
    }
    let people: Vec<String> = team
        .iter()
        .map(|m| {
            let dates = match (m.start_date, m.end_date) {
                (Some(s), Some(e)) => format!("{s} 至 {e}"),
                (Some(s), None) => format!("{s} 起"),
                (None, Some(e)) => format!("至 {e}"),
                (None, None) => String::new(),
            };
            let about: Vec<&str> = [m.unit.as_str(), dates.as_str()]
                .into_iter()
                .filter(|t| !t.is_empty())
                .collect();
            format!("{} {}（{}）", m.role, m.name, about.join("，"))
        })
        .collect();
    format!("驻村工作队：{}", people.join("；"))
}
