//! The card as printed: a title with the QR code, a ruled table in the order of the paper
//! cards, the hotline and print date at the foot. Text shrinks step by step until the whole
//! table fits the card, and every cell wraps, so nothing is ever cut off.

use std::ops::ControlFlow;
use std::time::Instant;

use super::card::{Context, HelpCard, date_zh, households_of};
use super::font::{CjkFont, Weight};
use super::pdf::{Align, Canvas, Cell, Document, LINE_HEIGHT, MM, PageSize, RowLayout};
use super::qr::QrMatrix;
use super::{CardError, CardLayout, CardRequest};
use crate::store::Store;

const TITLE: &str = "精准扶贫帮扶联系卡";
const MARGIN: f32 = 9.0 * MM;
const QR_SIDE: f32 = 22.0 * MM;
const LABEL_W: f32 = 22.0 * MM;
/// Type sizes tried for the table, largest first; 10.5 pt is 五号, the size of paper forms.
const SIZES: &[f32] = &[10.5, 10.0, 9.5, 9.0, 8.5, 8.0, 7.5, 7.0, 6.5, 6.0, 5.5, 5.0];

/// A card laid out for its box: header, table rows with their drawn heights, footer.
struct CardPlan {
    place: Vec<String>,
    rows: Vec<(RowLayout, f32)>,
    footer_left: Vec<String>,
    qr: QrMatrix,
}

const PLACE_SIZE: f32 = 9.0;
const FOOTER_SIZE: f32 = 9.5;
const NOTE_SIZE: f32 = 7.0;
const NOTE: &str = "本卡一式两份，一份张贴于贫困户家中，一份由帮扶责任人留存。";

fn header_height() -> f32 {
    QR_SIDE + 4.0 * MM
}

fn footer_height(lines: usize) -> f32 {
    (lines as f32 * FOOTER_SIZE + NOTE_SIZE) * LINE_HEIGHT + 3.0 * MM
}

/// The table rows of a card at one type size.
fn rows(font: &CjkFont, card: &HelpCard, width: f32, size: f32) -> Vec<RowLayout> {
    let value_w = (width - 2.0 * LABEL_W) / 2.0;
    let wide_w = width - LABEL_W;
    let row = |cells: Vec<Cell>| RowLayout::new(font, cells, size);
    let section = |text: String| {
        row(vec![Cell {
            shaded: true,
            ..Cell::value(width, text).centered().bold()
        }])
    };
    let mut out = vec![
        row(vec![
            Cell::label(LABEL_W, "户主姓名"),
            Cell::value(value_w, &card.head_name),
            Cell::label(LABEL_W, "家庭人口"),
            Cell::value(value_w, format!("{}人", card.family_size)),
        ]),
        row(vec![
            Cell::label(LABEL_W, "家庭住址"),
            Cell::value(wide_w, &card.address),
        ]),
        row(vec![
            Cell::label(LABEL_W, "贫困户属性"),
            Cell::value(value_w, &card.attribute),
            Cell::label(LABEL_W, "致贫原因"),
            Cell::value(value_w, card.causes.join("、")),
        ]),
        section("帮扶责任人".to_owned()),
    ];
    let cadre = card.cadre.clone().unwrap_or_default();
    let none = card.cadre.is_none();
    out.push(row(vec![
        Cell::label(LABEL_W, "姓名"),
        Cell::value(
            value_w,
            if none {
                "（尚未结对）"
            } else {
                &cadre.name
            },
        ),
        Cell::label(LABEL_W, "职务"),
        Cell::value(value_w, &cadre.title),
    ]));
    out.push(row(vec![
        Cell::label(LABEL_W, "帮扶单位"),
        Cell::value(wide_w, &cadre.unit),
    ]));
    out.push(row(vec![
        Cell::label(LABEL_W, "联系电话"),
        Cell::value(wide_w, &cadre.phone),
    ]));
    // The village's resident work team, whom the household can also call.
    if !card.team.is_empty() {
        out.push(row(vec![
            Cell::label(LABEL_W, "驻村工作队"),
            Cell::value(wide_w, team_text(&card.team)),
        ]));
    }
    let year = card.year.map(|y| format!("{y}年")).unwrap_or_default();
    out.push(section(format!("{year}帮扶措施")));
    let (no_w, path_w, amount_w, status_w) = (11.0 * MM, 20.0 * MM, 18.0 * MM, 19.0 * MM);
    let desc_w = width - no_w - path_w - amount_w - status_w;
    out.push(row(vec![
        Cell::label(no_w, "序号"),
        Cell::label(path_w, "类别"),
        Cell::label(desc_w, "措施内容"),
        Cell::label(amount_w, "金额(元)"),
        Cell::label(status_w, "落实情况"),
    ]));
    if card.measures.is_empty() {
        out.push(row(vec![
            Cell::value(width, "（本年度尚无帮扶措施）").centered(),
        ]));
    }
    for (i, m) in card.measures.iter().enumerate() {
        out.push(row(vec![
            Cell::value(no_w, (i + 1).to_string()).centered(),
            Cell::value(path_w, &m.path).centered(),
            Cell::value(desc_w, &m.description),
            Cell {
                align: Align::Right,
                ..Cell::value(amount_w, &m.amount)
            },
            Cell::value(status_w, &m.status).centered(),
        ]));
    }
    out.push(row(vec![
        Cell::label(LABEL_W, "帮扶目标"),
        Cell::value(wide_w, card.targets.join("；")),
    ]));
    out.push(row(vec![
        Cell::label(LABEL_W, "发展意向"),
        Cell::value(wide_w, &card.development_intent),
    ]));
    out
}

/// "第一书记 王明 13987654321；工作队员 李华 13812345678": the card's 驻村工作队 row.
pub(crate) fn team_text(team: &[super::card::CardTeamMember]) -> String {
    team.iter()
        .map(|m| {
            [m.role.as_str(), m.name.as_str(), m.phone.as_str()]
                .iter()
                .filter(|t| !t.is_empty())
                .copied()
                .collect::<Vec<_>>()
                .join(" ")
        })
        .collect::<Vec<_>>()
        .join("；")
}

/// Chooses the largest type size at which the table fits the card, and gives the room left
/// over to the target and intent rows, where a cadre may write by hand.
fn plan(font: &CjkFont, card: &HelpCard, width: f32, height: f32) -> Result<CardPlan, CardError> {
    let inner_w = width - 2.0 * MARGIN;
    let place = font.wrap(
        &card.place,
        PLACE_SIZE,
        Weight::Regular,
        inner_w - QR_SIDE - 4.0 * MM,
    );
    let footer_left = font.wrap(
        &format!("监督举报电话：{}", card.hotline),
        FOOTER_SIZE,
        Weight::Bold,
        inner_w * 0.6,
    );
    let room = height - 2.0 * MARGIN - header_height() - footer_height(footer_left.len());
    for &size in SIZES {
        let table = rows(font, card, inner_w, size);
        let needed: f32 = table.iter().map(RowLayout::height).sum();
        if needed > room {
            continue;
        }
        let spare = room - needed;
        let count = table.len();
        let rows = table
            .into_iter()
            .enumerate()
            .map(|(i, r)| {
                let h = r.height();
                // The last two rows are 帮扶目标 and 发展意向.
                let extra = if i + 2 >= count { spare / 2.0 } else { 0.0 };
                (r, h + extra)
            })
            .collect();
        return Ok(CardPlan {
            place,
            rows,
            footer_left,
            qr: QrMatrix::encode(&card.qr_text)?,
        });
    }
    Err(CardError::CardTooLong {
        code: card.household_code.clone(),
    })
}

fn draw(c: &mut Canvas<'_, '_>, card: &HelpCard, plan: &CardPlan, x0: f32, width: f32) {
    let left = x0 + MARGIN;
    let inner_w = width - 2.0 * MARGIN;
    let title_w = inner_w - QR_SIDE - 4.0 * MM;
    // The place line sits under the title, both centred in the space left of the QR code.
    let title_size = 17.0;
    let block = title_size * LINE_HEIGHT + plan.place.len() as f32 * PLACE_SIZE * LINE_HEIGHT;
    let mut y = MARGIN + (QR_SIDE - block) / 2.0;
    c.text(
        left + title_w / 2.0,
        y,
        title_size,
        Weight::Bold,
        Align::Center,
        TITLE,
    );
    y += title_size * LINE_HEIGHT;
    for line in &plan.place {
        c.text(
            left + title_w / 2.0,
            y,
            PLACE_SIZE,
            Weight::Regular,
            Align::Center,
            line,
        );
        y += PLACE_SIZE * LINE_HEIGHT;
    }
    let qr_x = left + inner_w - QR_SIDE;
    c.qr(qr_x, MARGIN, QR_SIDE, &plan.qr);
    c.text(
        qr_x + QR_SIDE / 2.0,
        MARGIN + QR_SIDE + 0.5 * MM,
        6.5,
        Weight::Regular,
        Align::Center,
        &card.household_code,
    );

    let mut y = MARGIN + header_height();
    for (row, h) in &plan.rows {
        c.row(left, y, row, *h);
        y += h;
    }

    y += 2.0 * MM;
    for line in &plan.footer_left {
        c.text(left, y, FOOTER_SIZE, Weight::Bold, Align::Left, line);
        y += FOOTER_SIZE * LINE_HEIGHT;
    }
    let date_top = y - FOOTER_SIZE * LINE_HEIGHT;
    c.text(
        left + inner_w,
        date_top,
        FOOTER_SIZE,
        Weight::Regular,
        Align::Right,
        &format!("打印日期：{}", date_zh(card.printed_on)),
    );
    c.text(
        left,
        y + 1.0 * MM,
        NOTE_SIZE,
        Weight::Regular,
        Align::Left,
        NOTE,
    );
}

/// Draws cards onto pages of the chosen layout.
fn write_cards(
    doc: &mut Document<'_>,
    cards: &[HelpCard],
    layout: CardLayout,
    progress: &mut dyn FnMut(usize, usize) -> ControlFlow<()>,
) -> Result<(), CardError> {
    let font = doc.font();
    let (page, per_page) = match layout {
        CardLayout::A5 => (PageSize::A5, 1),
        CardLayout::A4x2 => (PageSize::A4_LANDSCAPE, 2),
    };
    let card_w = page.width / per_page as f32;
    let mut done = 0;
    for sheet in cards.chunks(per_page) {
        let plans = sheet
            .iter()
            .map(|card| plan(font, card, card_w, page.height))
            .collect::<Result<Vec<_>, _>>()?;
        doc.page(page, |c| {
            for (i, (card, plan)) in sheet.iter().zip(&plans).enumerate() {
                draw(c, card, plan, i as f32 * card_w, card_w);
            }
            if per_page == 2 {
                cut_marks(c, card_w, page.height);
            }
        })?;
        done += sheet.len();
        if progress(done, cards.len()).is_break() {
            return Err(CardError::Cancelled);
        }
    }
    Ok(())
}

/// A dashed cut line between the two cards, with solid crop marks in the top and bottom
/// margins where a paper cutter's guide is aligned.
fn cut_marks(c: &mut Canvas<'_, '_>, x: f32, height: f32) {
    let mark = 6.0 * MM;
    c.line((x, 0.0), (x, mark), 0.8, false);
    c.line((x, height - mark), (x, height), 0.8, false);
    c.line(
        (x, mark + 1.0 * MM),
        (x, height - mark - 1.0 * MM),
        0.3,
        true,
    );
}

/// The help-contact cards a request asks for, as one PDF. `progress` gets (done, total)
/// after each page; answering `Break` stops the batch with [`CardError::Cancelled`].
pub fn help_cards_pdf(
    store: &Store,
    request: &CardRequest,
    progress: &mut dyn FnMut(usize, usize) -> ControlFlow<()>,
) -> Result<Vec<u8>, CardError> {
    let font = CjkFont::locate()?;
    let cards = super::help_cards(store, request)?;
    let mut doc = Document::new(&font, "帮扶联系卡");
    write_cards(&mut doc, &cards, request.layout, progress)?;
    doc.finish()
}

/// Prints 500 A5 cards from the store's households (repeating them when there are fewer),
/// font loading and reading included; returns (seconds, bytes of PDF per card).
pub fn bench_cards(store: &Store) -> Result<(f64, f64), CardError> {
    const CARDS: usize = 500;
    let started = Instant::now();
    let font = CjkFont::locate()?;
    let request = CardRequest::default();
    let households = households_of(store, &request)?;
    let context = Context::load(store)?;
    let today = store.today();
    let cards = households
        .iter()
        .cycle()
        .take(CARDS)
        .map(|h| context.card(store, h, &request.config, None, today))
        .collect::<Result<Vec<_>, _>>()?;
    let mut doc = Document::new(&font, "帮扶联系卡");
    write_cards(&mut doc, &cards, CardLayout::A5, &mut |_, _| {
        ControlFlow::Continue(())
    })?;
    let bytes = doc.finish()?;
    Ok((
        started.elapsed().as_secs_f64(),
        bytes.len() as f64 / CARDS as f64,
    ))
}
