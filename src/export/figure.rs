//! SVG figures as PNG images at print resolution (resvg), with the machine's fonts (fontdb)
//! so Chinese labels render: the figures of report.docx.

use super::ExportError;
use resvg::{tiny_skia, usvg};
use std::sync::Arc;

/// Dots per inch of a figure's PNG at the width it is printed.
pub const PNG_DPI: f32 = 200.0;

/// The families tried first for the SVGs' `sans-serif`, in order: the first one installed
/// covers Chinese as well as Latin text.
const SANS: &[&str] = &[
    "Noto Sans CJK SC",
    "Source Han Sans SC",
    "WenQuanYi Micro Hei",
    "Microsoft YaHei",
    "PingFang SC",
    "DejaVu Sans",
];

/// Renders SVG figures to PNG with the system's fonts, loaded once.
pub struct FigureRenderer {
    fontdb: Arc<usvg::fontdb::Database>,
}

impl std::fmt::Debug for FigureRenderer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "FigureRenderer({} font faces)", self.fontdb.len())
    }
}

impl Default for FigureRenderer {
    fn default() -> Self {
        FigureRenderer::new()
    }
}

impl FigureRenderer {
    /// Loads the system's fonts and picks a `sans-serif` that covers Chinese when one is
    /// installed (fonts-noto-cjk on Debian).
    pub fn new() -> FigureRenderer {
        let mut db = usvg::fontdb::Database::new();
        db.load_system_fonts();
        let installed = |family: &str| {
            db.faces()
                .any(|f| f.families.iter().any(|(name, _)| name == family))
        };
        if let Some(family) = SANS.iter().find(|f| installed(f)) {
            db.set_sans_serif_family(*family);
        }
        FigureRenderer {
            fontdb: Arc::new(db),
        }
    }

    /// True when a font that covers Chinese is installed.
    pub fn has_cjk_font(&self) -> bool {
        self.fontdb.faces().any(|f| {
            f.families
                .iter()
                .any(|(name, _)| SANS[..5].contains(&name.as_str()))
        })
    }

    /// Renders `svg` as a PNG `width_in` inches wide at [`PNG_DPI`]; returns the PNG and
    /// its size in pixels. External images in the SVG are never loaded.
    pub fn png(&self, svg: &str, width_in: f32) -> Result<(Vec<u8>, u32, u32), ExportError> {
        let options = usvg::Options {
            fontdb: Arc::clone(&self.fontdb),
            font_family: "sans-serif".to_string(),
            image_href_resolver: usvg::ImageHrefResolver {
                resolve_data: Box::new(|_, _, _| None),
                resolve_string: Box::new(|_, _| None),
            },
            ..usvg::Options::default()
        };
        let tree = usvg::Tree::from_str(svg, &options)
            .map_err(|e| ExportError::Docx(format!("a figure is not valid SVG: {e}")))?;
        let size = tree.size();
        let scale = (width_in * PNG_DPI / size.width()).clamp(0.05, 8.0);
        let w = (size.width() * scale).ceil() as u32;
        let h = (size.height() * scale).ceil() as u32;
        // At most 40 megapixels: a figure is never bigger than a page.
        if w == 0 || h == 0 || u64::from(w) * u64::from(h) > 40_000_000 {
            return Err(ExportError::Docx(format!(
                "a figure of {w}x{h} pixels is too large to render"
            )));
        }
        let mut pixmap = tiny_skia::Pixmap::new(w, h)
            .ok_or_else(|| ExportError::Docx("cannot allocate a figure's image".into()))?;
        pixmap.fill(tiny_skia::Color::WHITE);
        resvg::render(
            &tree,
            tiny_skia::Transform::from_scale(scale, scale),
            &mut pixmap.as_mut(),
        );
        let png = pixmap
            .encode_png()
            .map_err(|e| ExportError::Docx(format!("cannot encode a figure as PNG: {e}")))?;
        Ok((png, w, h))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_figure_renders_at_print_resolution() {
        let r = FigureRenderer::new();
        let svg = r##"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 760 100" width="760" height="100"><rect width="760" height="100" fill="#fff"/><text x="10" y="50" font-family="'Noto Sans CJK SC', sans-serif">握手 SYN</text><image href="/etc/passwd" width="10" height="10"/></svg>"##;
        let (png, w, h) = r.png(svg, 6.0).unwrap();
        assert_eq!((w, h), (1200, 158));
        assert!(png.starts_with(b"\x89PNG\r\n\x1a\n"));
        assert!(r.png("<svg", 6.0).is_err());
    }
}
