//! Finding and loading a CJK font (Noto Sans CJK SC preferred), and measuring text with it.
//!
//! Glyphs are mapped here, one per character, and the very same advances are used to measure
//! and to draw: a line that measures as fitting is drawn exactly that wide, so wrapping can
//! promise that nothing runs past a cell border. Chinese needs no shaping for this.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use skrifa::raw::{FileRef, TableProvider};
use skrifa::{FontRef, MetadataProvider, instance::LocationRef, instance::Size};

use super::CardError;

/// Environment variable naming a font file to use instead of the known locations.
pub const FONT_ENV: &str = "BANGFU_CJK_FONT";

/// Where CJK fonts live on the systems the app runs on (Debian/UOS/Kylin, Fedora, Arch,
/// Windows), best first. Each entry is (regular, bold).
pub const KNOWN_FONT_PATHS: &[(&str, &str)] = &[
    (
        "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
        "/usr/share/fonts/opentype/noto/NotoSansCJK-Bold.ttc",
    ),
    (
        "/usr/share/fonts/noto-cjk/NotoSansCJK-Regular.ttc",
        "/usr/share/fonts/noto-cjk/NotoSansCJK-Bold.ttc",
    ),
    (
        "/usr/share/fonts/google-noto-cjk/NotoSansCJK-Regular.ttc",
        "/usr/share/fonts/google-noto-cjk/NotoSansCJK-Bold.ttc",
    ),
    (
        "/usr/share/fonts/truetype/noto/NotoSansCJK-Regular.ttc",
        "/usr/share/fonts/truetype/noto/NotoSansCJK-Bold.ttc",
    ),
    (
        "/usr/share/fonts/opentype/noto/NotoSansCJKsc-Regular.otf",
        "/usr/share/fonts/opentype/noto/NotoSansCJKsc-Bold.otf",
    ),
    (
        "C:\\Windows\\Fonts\\msyh.ttc",
        "C:\\Windows\\Fonts\\msyhbd.ttc",
    ),
    ("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc", ""),
    ("C:\\Windows\\Fonts\\simsun.ttc", ""),
];

/// Regular or bold text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Weight {
    Regular,
    Bold,
}

/// One loaded face: the krilla font for drawing and a character table for measuring.
pub(crate) struct Face {
    pub font: krilla::text::Font,
    /// Character → (glyph id, advance in em).
    glyphs: HashMap<char, (u32, f32)>,
    notdef_advance: f32,
}

impl std::fmt::Debug for Face {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Face")
            .field("chars", &self.glyphs.len())
            .finish()
    }
}

impl Face {
    /// The glyph and advance (in em) of a character; unknown characters get the empty box.
    pub fn glyph(&self, c: char) -> (u32, f32) {
        self.glyphs
            .get(&c)
            .copied()
            .unwrap_or((0, self.notdef_advance))
    }
}

/// The CJK font of printed cards and sheets, with an optional bold face.
#[derive(Debug)]
pub struct CjkFont {
    pub(crate) regular: Face,
    bold: Option<Face>,
    /// The file the regular face came from, for logs.
    pub path: PathBuf,
}

impl CjkFont {
    /// The font named by `BANGFU_CJK_FONT`, else the first known system location found.
    pub fn locate() -> Result<CjkFont, CardError> {
        if let Some(path) = std::env::var_os(FONT_ENV).filter(|p| !p.is_empty()) {
            return CjkFont::load(Path::new(&path), None);
        }
        for (regular, bold) in KNOWN_FONT_PATHS {
            let regular = Path::new(regular);
            if regular.is_file() {
                let bold = Path::new(bold);
                return CjkFont::load(regular, bold.is_file().then_some(bold));
            }
        }
        Err(CardError::NoCjkFont {
            tried: KNOWN_FONT_PATHS
                .iter()
                .map(|(r, _)| PathBuf::from(r))
                .collect(),
        })
    }

    /// Loads a font file (.ttc, .otf or .ttf); in a collection, the Simplified Chinese face.
    pub fn load(regular: &Path, bold: Option<&Path>) -> Result<CjkFont, CardError> {
        let regular_face = load_face(regular)?;
        // A missing or broken bold file only costs the bold title, not the print.
        let bold = bold.and_then(|p| load_face(p).ok());
        Ok(CjkFont {
            regular: regular_face,
            bold,
            path: regular.to_path_buf(),
        })
    }

    pub(crate) fn face(&self, weight: Weight) -> &Face {
        match (weight, &self.bold) {
            (Weight::Bold, Some(bold)) => bold,
            _ => &self.regular,
        }
    }

    /// The width of a single line of text, in points.
    pub fn width(&self, text: &str, size: f32, weight: Weight) -> f32 {
        let face = self.face(weight);
        text.chars().map(|c| face.glyph(c).1).sum::<f32>() * size
    }

    /// Breaks text into lines no wider than `width`. Chinese breaks between any two
    /// characters; runs of Latin letters and digits (phone numbers, codes) stay whole unless
    /// they alone are too wide; closing punctuation never starts a line. Newlines are kept.
    pub fn wrap(&self, text: &str, size: f32, weight: Weight, width: f32) -> Vec<String> {
        let mut lines = Vec::new();
        for paragraph in text.split('\n') {
            let mut line = String::new();
            let mut line_w = 0.0;
            for token in tokens(paragraph) {
                let token_w = self.width(token, size, weight);
                if line_w + token_w <= width {
                    line.push_str(token);
                    line_w += token_w;
                    continue;
                }
                if !line.is_empty() {
                    lines.push(std::mem::take(&mut line).trim_end().to_owned());
                }
                let token = token.trim_start();
                line_w = self.width(token, size, weight);
                if line_w <= width {
                    line.push_str(token);
                    continue;
                }
                // A token wider than the whole line is cut by characters.
                line_w = 0.0;
                for c in token.chars() {
                    let w = self.face(weight).glyph(c).1 * size;
                    if line_w + w > width && !line.is_empty() {
                        lines.push(std::mem::take(&mut line));
                        line_w = 0.0;
                    }
                    line.push(c);
                    line_w += w;
                }
            }
            lines.push(line.trim_end().to_owned());
        }
        lines
    }
}

/// Characters that must stay at the end of the line they close.
fn closes(c: char) -> bool {
    "，。、；：？！）》」』”’,.;:?!)%".contains(c)
}

/// Characters that must stay at the start of the line they open.
fn opens(c: char) -> bool {
    "（《「『“‘(".contains(c)
}

/// Splits a paragraph into unbreakable pieces: one Chinese character, one Latin word with its
/// trailing spaces, each with the closing punctuation that follows it and the opening
/// punctuation that precedes it.
fn tokens(text: &str) -> Vec<&str> {
    let mut ranges: Vec<(usize, usize)> = Vec::new();
    let mut chars = text.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        let mut end = i + c.len_utf8();
        if c.is_ascii_alphanumeric() {
            while let Some(&(j, d)) = chars.peek() {
                if d.is_ascii_alphanumeric() || "-_@./:".contains(d) {
                    end = j + d.len_utf8();
                    chars.next();
                } else {
                    break;
                }
            }
        }
        while let Some(&(j, d)) = chars.peek() {
            if closes(d) || d == ' ' {
                end = j + d.len_utf8();
                chars.next();
            } else {
                break;
            }
        }
        match ranges.last_mut() {
            // The previous piece ends in an opening mark: this piece joins it.
            Some(last) if text[last.0..last.1].ends_with(opens) => last.1 = end,
            _ => ranges.push((i, end)),
        }
    }
    ranges.into_iter().map(|(a, b)| &text[a..b]).collect()
}

fn load_face(path: &Path) -> Result<Face, CardError> {
    let data = std::fs::read(path).map_err(|source| CardError::FontUnreadable {
        path: path.to_path_buf(),
        source,
    })?;
    let invalid = || CardError::FontInvalid {
        path: path.to_path_buf(),
    };
    let (index, glyphs, notdef_advance) = {
        let file = FileRef::new(&data).map_err(|_| invalid())?;
        let faces: Vec<FontRef<'_>> = file.fonts().filter_map(Result::ok).collect();
        // In a collection (Noto's .ttc holds JP, KR, SC, TC, HK), the Simplified Chinese face
        // has the glyph shapes readers here expect.
        let index = faces
            .iter()
            .position(|f| family_name(f).contains(" SC"))
            .unwrap_or(0);
        let face = faces.get(index).ok_or_else(invalid)?;
        let upem = f32::from(face.head().map_err(|_| invalid())?.units_per_em());
        let metrics = face.glyph_metrics(Size::unscaled(), LocationRef::default());
        let advance = |gid| metrics.advance_width(gid).unwrap_or(upem) / upem;
        let mut glyphs = HashMap::new();
        for (code, gid) in face.charmap().mappings() {
            if let Some(c) = char::from_u32(code) {
                glyphs.insert(c, (gid.to_u32(), advance(gid)));
            }
        }
        if !glyphs.contains_key(&'中') {
            return Err(CardError::FontNotChinese {
                path: path.to_path_buf(),
            });
        }
        (index, glyphs, advance(skrifa::GlyphId::new(0)))
    };
    let font = krilla::text::Font::new(Arc::new(data).into(), index as u32).ok_or_else(invalid)?;
    Ok(Face {
        font,
        glyphs,
        notdef_advance,
    })
}

fn family_name(font: &FontRef<'_>) -> String {
    font.localized_strings(skrifa::string::StringId::FAMILY_NAME)
        .english_or_first()
        .map(|s| s.chars().collect())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::tokens;

    #[test]
    fn tokens_keep_numbers_whole_and_punctuation_with_what_it_closes() {
        let cases: &[(&str, &[&str])] = &[
            ("发展产业", &["发", "展", "产", "业"]),
            ("电话13812345678。", &["电", "话", "13812345678。"]),
            ("养牛，2头", &["养", "牛，", "2", "头"]),
            ("A5 card", &["A5 ", "card"]),
            ("讲解“2355”办法", &["讲", "解", "“2355”", "办", "法"]),
            ("（五保）", &["（五", "保）"]),
            ("", &[]),
        ];
        for (text, expected) in cases {
            assert_eq!(&tokens(text), expected, "{text}");
        }
    }
}
