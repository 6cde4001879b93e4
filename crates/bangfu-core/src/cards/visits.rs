//! The 走访记录 sheet of one household: a ruled table of visits on A4, the header repeated on
//! every page, long entries wrapped and, when a visit runs past the foot of a page, continued
//! at the top of the next.

use super::card::{Context, NO_HEAD, date_zh, households_of};
use super::font::{CjkFont, Weight};
use super::pdf::{Align, Cell, Document, LINE_HEIGHT, MM, PageSize, RowLayout, paginate};
use super::{CardError, CardRequest};
use crate::model::codes;
use crate::model::{Member, Visit};
use crate::store::{Filter, Store};

const MARGIN: f32 = 15.0 * MM;
const SIZE: f32 = 10.0;
const TITLE_SIZE: f32 = 16.0;

/// The visit sheet of the household with this code, as a PDF.
pub fn visits_sheet_pdf(store: &Store, household_code: &str) -> Result<Vec<u8>, CardError> {
    let request = CardRequest {
        household: Some(household_code.to_owned()),
        ..CardRequest::default()
    };
    let household = households_of(store, &request)?
        .into_iter()
        .next()
        .ok_or(CardError::NothingToPrint)?;
    let context = Context::load(store)?;
    let head = store
        .read::<Member>(Filter::OfHousehold(household.id))?
        .into_iter()
        .find(|m| m.relation == codes::RELATION_HEAD)
        .map_or_else(|| NO_HEAD.to_owned(), |m| m.name);
    let mut visits = store.read::<Visit>(Filter::OfHousehold(household.id))?;
    visits.sort_by_key(|v| v.visit_date);

    let font = CjkFont::locate()?;
    let page = PageSize::A4;
    let width = page.width - 2.0 * MARGIN;
    let mut info_lines = vec![format!("户主：{head}　　户编号：{}", household.code)];
    info_lines.extend(font.wrap(
        &format!("住址：{}", household.address),
        SIZE,
        Weight::Regular,
        width,
    ));
    let columns = [31.0 * MM, 22.0 * MM];
    let text_w = (width - columns[0] - columns[1]) / 2.0;
    let header = RowLayout::new(
        &font,
        vec![
            Cell::label(columns[0], "走访日期").bold(),
            Cell::label(columns[1], "走访人").bold(),
            Cell::label(text_w, "了解情况").bold(),
            Cell::label(text_w, "帮扶落实").bold(),
        ],
        SIZE,
    );
    let mut rows: Vec<RowLayout> = visits
        .iter()
        .map(|v| {
            let cadre = context
                .helper(v.helper_id)
                .map(|h| h.name.clone())
                .unwrap_or_default();
            let date = v.visit_date.map(date_zh).unwrap_or_default();
            RowLayout::new(
                &font,
                vec![
                    Cell::value(columns[0], date).centered(),
                    Cell::value(columns[1], cadre).centered(),
                    Cell::value(text_w, &v.found),
                    Cell::value(text_w, &v.done),
                ],
                SIZE,
            )
        })
        .collect();
    if rows.is_empty() {
        rows.push(RowLayout::new(
            &font,
            vec![Cell::value(width, "（暂无走访记录）").centered()],
            SIZE,
        ));
    }

    let top = MARGIN + TITLE_SIZE * LINE_HEIGHT + info_lines.len() as f32 * SIZE * LINE_HEIGHT;
    let table_top = top + 3.0 * MM;
    let bottom = page.height - MARGIN - SIZE * LINE_HEIGHT;
    let pages = paginate(rows, header.height(), bottom - table_top);

    let mut doc = Document::new(&font, "走访记录");
    let total = pages.len();
    for (n, page_rows) in pages.iter().enumerate() {
        doc.page(page, |c| {
            c.text(
                page.width / 2.0,
                MARGIN,
                TITLE_SIZE,
                Weight::Bold,
                Align::Center,
                "走访记录",
            );
            let mut y = MARGIN + TITLE_SIZE * LINE_HEIGHT;
            for line in &info_lines {
                c.text(MARGIN, y, SIZE, Weight::Regular, Align::Left, line);
                y += SIZE * LINE_HEIGHT;
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

#[cfg(test)]
mod tests {
    use super::*;

    fn row(lines: usize) -> RowLayout {
        RowLayout {
            cells: vec![Cell::value(100.0, "")],
            lines: vec![(0..lines).map(|i| format!("第{i}行")).collect()],
            size: SIZE,
        }
    }

    #[test]
    fn rows_are_dealt_onto_pages_and_long_ones_split_without_losing_lines() {
        let line = SIZE * LINE_HEIGHT;
        let pad = row(0).height() - line;
        // (rows of n lines, page room in lines after the header) → lines on each page
        type Case = (&'static [usize], usize, &'static [&'static [usize]]);
        let cases: &[Case] = &[
            (&[1, 1, 1], 10, &[&[1, 1, 1]]),
            // The third row does not fit: 4 of its 6 lines go on page 1.
            (&[2, 2, 6], 8, &[&[2, 2, 4], &[2]]),
            // Only one line left: the row moves to the next page whole.
            (&[2, 2, 2, 2, 3], 8, &[&[2, 2, 2], &[2, 3]]),
            // A row longer than two pages.
            (&[20], 8, &[&[9], &[9], &[2]]),
        ];
        for (rows, room_lines, expected) in cases {
            let header = row(1).height();
            let room = header + *room_lines as f32 * line + 3.0 * pad;
            let pages = paginate(rows.iter().map(|n| row(*n)).collect(), header, room);
            let got: Vec<Vec<usize>> = pages
                .iter()
                .map(|p| p.iter().map(|r| r.lines[0].len()).collect())
                .collect();
            let total: usize = got.iter().flatten().sum();
            assert_eq!(total, rows.iter().sum::<usize>(), "{rows:?}: lines lost");
            for (page, rows_on_page) in pages.iter().zip(&got) {
                let h: f32 = page.iter().map(RowLayout::height).sum::<f32>() + header;
                assert!(
                    h <= room + 0.01,
                    "{rows:?}: page {rows_on_page:?} overflows"
                );
            }
            let expected: Vec<Vec<usize>> = expected.iter().map(|p| p.to_vec()).collect();
            assert_eq!(got, expected, "{rows:?}");
        }
    }
}
