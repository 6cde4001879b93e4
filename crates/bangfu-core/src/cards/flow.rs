//! Forms that flow top to bottom over as many pages as they need (the exit procedure's 双认定表
//! and 公示名单): lines, ruled rows and gaps placed page by page, rows split at a line when they
//! do not fit, nothing ever clipped. Part of the one PDF engine with `pdf.rs`, which draws them.

use super::font::{CjkFont, Weight};
use super::pdf::{Align, Canvas, LINE_HEIGHT, MM, PageSize, RowLayout};

/// One piece of a form laid out top to bottom.
#[derive(Debug, Clone)]
pub enum Block {
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
    pub fn height(&self) -> f32 {
        match self {
            Block::Line { size, .. } => size * LINE_HEIGHT,
            Block::Row { row, min } => row.height().max(*min),
            Block::Gap(h) => *h,
            Block::KeepRoom(_) => 0.0,
        }
    }
}

/// Wrapped text as one `Line` block per line.
pub fn lines(
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
pub fn flow(blocks: Vec<Block>, first_top: f32, top: f32, bottom: f32) -> Vec<Vec<(f32, Block)>> {
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

/// Draws a block placed by [`flow`] at `y`, lines aligned within `margin` of the page's sides.
pub fn draw(c: &mut Canvas<'_, '_>, page: PageSize, margin: f32, y: f32, block: &Block) {
    match block {
        Block::Line {
            text,
            size,
            weight,
            align,
        } => {
            let x = match align {
                Align::Left => margin,
                Align::Center => page.width / 2.0,
                Align::Right => page.width - margin,
            };
            c.text(x, y, *size, *weight, *align, text);
        }
        Block::Row { row, min } => c.row(margin, y, row, row.height().max(*min)),
        Block::Gap(_) | Block::KeepRoom(_) => {}
    }
}

/// 第 n 页　共 N 页, centred in the bottom margin, in type of `size`.
pub fn footer(
    c: &mut Canvas<'_, '_>,
    page: PageSize,
    margin: f32,
    size: f32,
    n: usize,
    total: usize,
) {
    c.text(
        page.width / 2.0,
        page.height - margin + 2.0 * MM,
        size,
        Weight::Regular,
        Align::Center,
        &format!("第 {n} 页　共 {total} 页"),
    );
}
