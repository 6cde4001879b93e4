//! The QR code on a card: the household code, so that scanning it finds the household in the
//! app's search (which accepts 户编号).

use qrcode::{Color, EcLevel, QrCode};

use super::CardError;

/// The modules of an encoded QR code, without the quiet zone (the drawer leaves a margin).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QrMatrix {
    width: usize,
    dark: Vec<bool>,
}

impl QrMatrix {
    /// Encodes text at error-correction level M, which survives a creased or stained card.
    pub fn encode(text: &str) -> Result<QrMatrix, CardError> {
        let code =
            QrCode::with_error_correction_level(text.as_bytes(), EcLevel::M).map_err(|source| {
                CardError::QrCode {
                    text: text.to_owned(),
                    detail: source.to_string(),
                }
            })?;
        Ok(QrMatrix {
            width: code.width(),
            dark: code
                .to_colors()
                .into_iter()
                .map(|c| c == Color::Dark)
                .collect(),
        })
    }

    /// Modules per side.
    pub fn width(&self) -> usize {
        self.width
    }

    pub fn dark(&self, x: usize, y: usize) -> bool {
        self.dark.get(y * self.width + x).copied().unwrap_or(false)
    }

    /// One string per row, `1` for a dark module and `0` for a light one.
    pub fn rows(&self) -> Vec<String> {
        (0..self.width)
            .map(|y| {
                (0..self.width)
                    .map(|x| if self.dark(x, y) { '1' } else { '0' })
                    .collect()
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::QrMatrix;

    #[test]
    fn a_household_code_is_a_version_1_symbol_with_finder_patterns() {
        let qr = QrMatrix::encode("530826103201001").unwrap();
        // 15 digits fit version 1 (21 modules) at level M.
        assert_eq!(qr.width(), 21);
        // The three finder patterns: dark corners and dark 7-module borders.
        for (x, y) in [(0, 0), (20, 0), (0, 20), (6, 6), (14, 0), (0, 14)] {
            assert!(qr.dark(x, y), "({x},{y})");
        }
        assert!(!qr.dark(1, 1), "inside the finder ring is light");
        let rows = qr.rows();
        assert_eq!(rows.len(), 21);
        assert!(rows[0].starts_with("1111111") && rows[1].starts_with("1000001"));
        assert!(rows.iter().all(|r| r.len() == 21));
    }
}
