//! A small PDF engine over krilla for the forms this app prints: pages, text lines, wrapped
//! paragraphs, ruled table rows and QR codes, all in the embedded CJK font.
//!
//! Coordinates are points from the top-left corner of the page, y growing downwards.
//! Cards, visit sheets and (later) the exit procedure's forms all print through this file.

use krilla::Document as KrillaDocument;
use krilla::color::luma;
use krilla::geom::{PathBuilder, Point, Rect};
use krilla::num::NormalizedF32;
use krilla::page::PageSettings;
use krilla::paint::{Fill, FillRule, Stroke, StrokeDash};
use krilla::surface::Surface;
use krilla::text::{GlyphId, KrillaGlyph};

use super::CardError;
use super::font::{CjkFont, Weight};
use super::qr::QrMatrix;

/// Points per millimetre.
pub const MM: f32 = 72.0 / 25.4;

/// How tall a line of text is, as a multiple of the font size.
pub const LINE_HEIGHT: f32 = 1.32;

/// A page size in points.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PageSize {
    pub width: f32,
    pub height: f32,
}

impl PageSize {
    pub const A4: PageSize = PageSize {
        width: 210.0 * MM,
        height: 297.0 * MM,
    };
    pub const A4_LANDSCAPE: PageSize = PageSize {
        width: 297.0 * MM,
        height: 210.0 * MM,
    };
    pub const A5: PageSize = PageSize {
        width: 148.0 * MM,
        height: 210.0 * MM,
    };
}

/// Horizontal placement of text in a box.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Align {
    Left,
    Center,
    Right,
}

/// One cell of a ruled table row.
#[derive(Debug, Clone, PartialEq)]
pub struct Cell {
    pub width: f32,
    pub text: String,
    pub align: Align,
    pub weight: Weight,
    /// Light grey background, as the label cells of paper forms.
    pub shaded: bool,
}

impl Cell {
    pub fn label(width: f32, text: impl Into<String>) -> Cell {
        Cell {
            width,
            text: text.into(),
            align: Align::Center,
            weight: Weight::Regular,
            shaded: true,
        }
    }

    pub fn value(width: f32, text: impl Into<String>) -> Cell {
        Cell {
            width,
            text: text.into(),
            align: Align::Left,
            weight: Weight::Regular,
            shaded: false,
        }
    }

    pub fn centered(self) -> Cell {
        Cell {
            align: Align::Center,
            ..self
        }
    }

    pub fn bold(self) -> Cell {
        Cell {
            weight: Weight::Bold,
            ..self
        }
    }
}

/// The padding inside a table cell, as a multiple of the font size.
const CELL_PAD: f32 = 0.35;

/// A table row with its text wrapped at one font size.
#[derive(Debug, Clone, PartialEq)]
pub struct RowLayout {
    pub cells: Vec<Cell>,
    /// Wrapped lines of each cell.
    pub lines: Vec<Vec<String>>,
    pub size: f32,
}

impl RowLayout {
    /// Wraps every cell of a row to its width at `size`.
    pub fn new(font: &CjkFont, cells: Vec<Cell>, size: f32) -> RowLayout {
        let lines = cells
            .iter()
            .map(|c| font.wrap(&c.text, size, c.weight, c.width - 2.0 * CELL_PAD * size))
            .collect();
        RowLayout { cells, lines, size }
    }

    /// The most lines any cell has.
    pub fn line_count(&self) -> usize {
        self.lines.iter().map(Vec::len).max().unwrap_or(0).max(1)
    }

    /// The height the row needs for its text and padding.
    pub fn height(&self) -> f32 {
        self.line_count() as f32 * self.size * LINE_HEIGHT + 2.0 * CELL_PAD * self.size
    }

    /// Splits the row after `lines` lines: the first part ends a page, the rest opens the next.
    pub fn split(&self, lines: usize) -> (RowLayout, RowLayout) {
        let mut head = self.clone();
        let mut tail = self.clone();
        for (h, t) in head.lines.iter_mut().zip(tail.lines.iter_mut()) {
            let at = lines.min(h.len());
            *t = h.split_off(at);
        }
        (head, tail)
    }

    /// How many lines fit in `height`.
    pub fn lines_fitting(&self, height: f32) -> usize {
        let room = height - 2.0 * CELL_PAD * self.size;
        if room <= 0.0 {
            return 0;
        }
        (room / (self.size * LINE_HEIGHT)).floor() as usize
    }
}

/// Below this many lines of room, a row starts on the next page instead of being split.
const MIN_SPLIT_LINES: usize = 2;

/// Deals rows onto pages of `room` height under a repeated header of `header` height. A row
/// that does not fit is split at the last line that does, unless only a sliver is left, and a
/// row taller than a whole page is split as often as it takes.
pub fn paginate(rows: Vec<RowLayout>, header: f32, room: f32) -> Vec<Vec<RowLayout>> {
    let mut pages = vec![Vec::new()];
    let mut used = header;
    let mut queue: std::collections::VecDeque<RowLayout> = rows.into();
    while let Some(row) = queue.pop_front() {
        if used + row.height() <= room {
            used += row.height();
            if let Some(page) = pages.last_mut() {
                page.push(row);
            }
            continue;
        }
        let fitting = row.lines_fitting(room - used);
        let page_is_empty = pages.last().is_none_or(Vec::is_empty);
        if fitting >= MIN_SPLIT_LINES || (page_is_empty && fitting > 0) {
            let (head, mut tail) = row.split(fitting);
            // The first cell of a row (a visit's date, a household's code) continued from the previous page is repeated, marked as
            // continued, so the part on the new page is not an anonymous row.
            if let (Some(first), Some(date)) = (tail.lines.first_mut(), head.lines.first())
                && first.is_empty()
                && !date.is_empty()
            {
                *first = date.clone();
                first.push("（续）".to_owned());
            }
            if let Some(page) = pages.last_mut() {
                page.push(head);
            }
            queue.push_front(tail);
        } else if page_is_empty {
            // Not even one line fits an empty page: the page is too small to print on.
            break;
        } else {
            queue.push_front(row);
        }
        pages.push(Vec::new());
        used = header;
    }
    if pages.len() > 1 && pages.last().is_some_and(Vec::is_empty) {
        pages.pop();
    }
    pages
}

/// A PDF being written, with the font its text uses.
pub struct Document<'f> {
    inner: KrillaDocument,
    font: &'f CjkFont,
    pages: usize,
}

impl std::fmt::Debug for Document<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Document")
            .field("pages", &self.pages)
            .finish()
    }
}

impl<'f> Document<'f> {
    pub fn new(font: &'f CjkFont, title: &str) -> Document<'f> {
        let mut inner = KrillaDocument::new();
        inner.set_metadata(
            krilla::metadata::Metadata::new()
                .title(title.to_owned())
                .language("zh-CN".to_owned())
                .creator("帮扶台账".to_owned()),
        );
        Document {
            inner,
            font,
            pages: 0,
        }
    }

    pub fn font(&self) -> &'f CjkFont {
        self.font
    }

    /// Adds a page and draws on it.
    pub fn page(
        &mut self,
        size: PageSize,
        draw: impl FnOnce(&mut Canvas<'_, '_>),
    ) -> Result<(), CardError> {
        let settings =
            PageSettings::from_wh(size.width, size.height).ok_or(CardError::PageSize {
                width: size.width,
                height: size.height,
            })?;
        let mut page = self.inner.start_page_with(settings);
        {
            let mut canvas = Canvas {
                surface: page.surface(),
                font: self.font,
            };
            draw(&mut canvas);
            canvas.surface.finish();
        }
        page.finish();
        self.pages += 1;
        Ok(())
    }

    pub fn page_count(&self) -> usize {
        self.pages
    }

    /// The finished file, with the used glyphs of the font embedded.
    pub fn finish(self) -> Result<Vec<u8>, CardError> {
        self.inner.finish().map_err(|e| CardError::Pdf {
            detail: format!("{e:?}"),
        })
    }
}

/// Drawing on one page.
pub struct Canvas<'a, 'p> {
    surface: Surface<'p>,
    font: &'a CjkFont,
}

impl std::fmt::Debug for Canvas<'_, '_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Canvas").finish()
    }
}

impl Canvas<'_, '_> {
    pub fn font(&self) -> &CjkFont {
        self.font
    }

    /// One line of text whose top is at `top`; `x` is the left edge, centre or right edge
    /// depending on `align`.
    pub fn text(&mut self, x: f32, top: f32, size: f32, weight: Weight, align: Align, text: &str) {
        if text.is_empty() {
            return;
        }
        let face = self.font.face(weight);
        let mut glyphs = Vec::with_capacity(text.len() / 3 + 1);
        let mut width = 0.0;
        for (i, c) in text.char_indices() {
            let (gid, advance) = face.glyph(c);
            width += advance * size;
            glyphs.push(KrillaGlyph::new(
                GlyphId::new(gid),
                advance,
                0.0,
                0.0,
                0.0,
                i..i + c.len_utf8(),
                None,
            ));
        }
        let left = match align {
            Align::Left => x,
            Align::Center => x - width / 2.0,
            Align::Right => x - width,
        };
        // Noto Sans CJK's ascender is 0.88 em; the baseline sits so that a line of
        // LINE_HEIGHT has its ink centred.
        let baseline = top + size * (0.88 + (LINE_HEIGHT - 1.12) / 2.0);
        self.surface.set_fill(Some(Fill::default()));
        self.surface.set_stroke(None);
        self.surface.draw_glyphs(
            Point::from_xy(left, baseline),
            &glyphs,
            face.font.clone(),
            text,
            size,
            false,
        );
    }

    /// Wrapped text in a column of `width`; returns the height used.
    #[allow(clippy::too_many_arguments)]
    pub fn paragraph(
        &mut self,
        x: f32,
        top: f32,
        width: f32,
        size: f32,
        weight: Weight,
        align: Align,
        text: &str,
    ) -> f32 {
        let lines = self.font.wrap(text, size, weight, width);
        let anchor = match align {
            Align::Left => x,
            Align::Center => x + width / 2.0,
            Align::Right => x + width,
        };
        for (i, line) in lines.iter().enumerate() {
            let y = top + i as f32 * size * LINE_HEIGHT;
            self.text(anchor, y, size, weight, align, line);
        }
        lines.len() as f32 * size * LINE_HEIGHT
    }

    /// A ruled table row at (`x`, `top`), `height` tall (at least its own height).
    pub fn row(&mut self, x: f32, top: f32, row: &RowLayout, height: f32) {
        let pad = CELL_PAD * row.size;
        let mut left = x;
        for (cell, lines) in row.cells.iter().zip(&row.lines) {
            if cell.shaded {
                self.fill_rect(left, top, cell.width, height, 235);
            }
            self.rect(left, top, cell.width, height, 0.6);
            // Labels and single lines sit in the middle of a stretched row, as on paper.
            let text_h = lines.len() as f32 * row.size * LINE_HEIGHT;
            let text_top = if cell.align == Align::Center || lines.len() <= 1 {
                top + (height - text_h) / 2.0
            } else {
                top + pad
            };
            let anchor = match cell.align {
                Align::Left => left + pad,
                Align::Center => left + cell.width / 2.0,
                Align::Right => left + cell.width - pad,
            };
            for (i, line) in lines.iter().enumerate() {
                let y = text_top + i as f32 * row.size * LINE_HEIGHT;
                self.text(anchor, y, row.size, cell.weight, cell.align, line);
            }
            left += cell.width;
        }
    }

    pub fn rect(&mut self, x: f32, y: f32, w: f32, h: f32, line_width: f32) {
        let Some(rect) = Rect::from_xywh(x, y, w, h) else {
            return;
        };
        let mut pb = PathBuilder::new();
        pb.push_rect(rect);
        if let Some(path) = pb.finish() {
            self.surface.set_fill(None);
            self.surface.set_stroke(Some(Stroke {
                width: line_width,
                ..Stroke::default()
            }));
            self.surface.draw_path(&path);
        }
    }

    /// A filled rectangle in a grey from 0 (black) to 255 (white).
    pub fn fill_rect(&mut self, x: f32, y: f32, w: f32, h: f32, grey: u8) {
        let Some(rect) = Rect::from_xywh(x, y, w, h) else {
            return;
        };
        let mut pb = PathBuilder::new();
        pb.push_rect(rect);
        if let Some(path) = pb.finish() {
            self.surface.set_stroke(None);
            self.surface.set_fill(Some(Fill {
                paint: luma::Color::new(grey).into(),
                opacity: NormalizedF32::ONE,
                rule: FillRule::NonZero,
            }));
            self.surface.draw_path(&path);
        }
    }

    /// A straight line; `dash` draws it dashed (cut lines).
    pub fn line(&mut self, from: (f32, f32), to: (f32, f32), line_width: f32, dash: bool) {
        let mut pb = PathBuilder::new();
        pb.move_to(from.0, from.1);
        pb.line_to(to.0, to.1);
        if let Some(path) = pb.finish() {
            self.surface.set_fill(None);
            self.surface.set_stroke(Some(Stroke {
                width: line_width,
                dash: dash.then(|| StrokeDash {
                    array: vec![3.0, 3.0],
                    offset: 0.0,
                }),
                ..Stroke::default()
            }));
            self.surface.draw_path(&path);
        }
    }

    /// A QR code `side` points wide with its top-left corner at (`x`, `y`). The dark modules
    /// of each row are merged into runs and filled as one path, which keeps files small.
    pub fn qr(&mut self, x: f32, y: f32, side: f32, qr: &QrMatrix) {
        let n = qr.width();
        if n == 0 {
            return;
        }
        let module = side / n as f32;
        let mut pb = PathBuilder::new();
        for row in 0..n {
            let mut col = 0;
            while col < n {
                if !qr.dark(col, row) {
                    col += 1;
                    continue;
                }
                let start = col;
                while col < n && qr.dark(col, row) {
                    col += 1;
                }
                if let Some(r) = Rect::from_xywh(
                    x + start as f32 * module,
                    y + row as f32 * module,
                    (col - start) as f32 * module,
                    module,
                ) {
                    pb.push_rect(r);
                }
            }
        }
        if let Some(path) = pb.finish() {
            self.surface.set_stroke(None);
            self.surface.set_fill(Some(Fill::default()));
            self.surface.draw_path(&path);
        }
    }
}
