//! Video analysis that runs offline and says how it got each result: a furniture taxonomy in
//! Russian and Kazakh matched by word stems over the video's text, a sentiment lexicon over its
//! comments, and colour, brightness and scene cuts measured on sampled frames. Nothing here
//! guesses beyond its method: no image object detector is installed, so objects are what the
//! text names.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum AnalysisType {
    /// Furniture kinds, materials and styles named in the title, description and hashtags.
    Furniture,
    /// Dominant colours, brightness and scene cuts of sampled frames.
    Scene,
    /// Furniture items named in the text (no image object detector).
    Objects,
    /// The words of the text matched against the whole taxonomy.
    Text,
    /// The comments' sentiment by a Russian and Kazakh lexicon.
    Sentiment,
}

impl AnalysisType {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Furniture => "furniture",
            Self::Scene => "scene",
            Self::Objects => "objects",
            Self::Text => "text",
            Self::Sentiment => "sentiment",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        [Self::Furniture, Self::Scene, Self::Objects, Self::Text, Self::Sentiment]
            .into_iter()
            .find(|t| t.as_str() == text)
    }
}

/// One finding: what, of which kind, how sure, by which method.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Finding {
    /// `item`, `material`, `style`, `colour`, `brightness`, `scene_cuts`, `sentiment`.
    pub kind: String,
    pub label: String,
    /// 0 to 1.
    pub confidence: f64,
    pub method: String,
    /// Measured values behind the finding (counts, shares, levels).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub value: Option<f64>,
}

/// (kind, label, stems): a word matches when it starts with one of the stems.
const TAXONOMY: &[(&str, &str, &[&str])] = &[
    ("item", "kitchen", &["кухн", "кухон", "асүй", "асхана"]),
    ("item", "wardrobe", &["шкаф", "гардероб", "купе", "шифоньер"]),
    ("item", "sofa", &["диван", "софа", "тахта"]),
    ("item", "bed", &["кроват", "төсек", "кереует"]),
    ("item", "table", &["стол", "үстел"]),
    ("item", "chair", &["стул", "кресл", "табурет", "орындық"]),
    ("item", "children", &["детск", "балалар", "бала"]),
    ("item", "office", &["офис", "кеңсе"]),
    ("item", "bathroom", &["ванн", "жуынатын"]),
    ("item", "hallway", &["прихож", "дәліз"]),
    ("material", "solid_wood", &["массив", "дерев", "дуб", "сосн", "бук", "ясен", "ағаш", "емен"]),
    ("material", "mdf", &["мдф", "mdf"]),
    ("material", "chipboard", &["лдсп", "дсп"]),
    ("material", "glass", &["стекл", "зеркал", "шыны", "айна"]),
    ("material", "metal", &["металл", "метал", "сталь", "темір"]),
    ("material", "leather", &["кож", "былғары"]),
    ("material", "fabric", &["ткан", "велюр", "рогожк", "мата"]),
    ("style", "modern", &["современ", "модерн", "заманауи"]),
    ("style", "classic", &["классик", "классич"]),
    ("style", "loft", &["лофт", "loft"]),
    ("style", "minimalism", &["минимал"]),
    ("style", "scandinavian", &["сканди"]),
];

pub const TAXONOMY_METHOD: &str = "word stems of a Russian and Kazakh furniture taxonomy over the title (×2), hashtags (×2) and description; confidence 1 − 0.5^weight";

/// Lowercased words (letters and digits) of `text`.
fn words(text: &str) -> impl Iterator<Item = String> + '_ {
    text.split(|c: char| !c.is_alphanumeric()).filter(|w| !w.is_empty()).map(str::to_lowercase)
}

/// The taxonomy's concepts named in a video's text, of the given kinds.
pub fn taxonomy(title: &str, description: &str, hashtags: &[String], kinds: &[&str]) -> Vec<Finding> {
    let weighted: Vec<(String, u32)> = words(title)
        .map(|w| (w, 2))
        .chain(hashtags.iter().flat_map(|t| words(t).map(|w| (w, 2)).collect::<Vec<_>>()))
        .chain(words(description).map(|w| (w, 1)))
        .collect();
    let mut findings: Vec<Finding> = TAXONOMY
        .iter()
        .filter(|(kind, _, _)| kinds.contains(kind))
        .filter_map(|(kind, label, stems)| {
            let weight: u32 =
                weighted.iter().filter(|(w, _)| stems.iter().any(|s| w.starts_with(s))).map(|(_, n)| n).sum();
            (weight > 0).then(|| Finding {
                kind: (*kind).to_owned(),
                label: (*label).to_owned(),
                confidence: round(1.0 - 0.5f64.powi(weight as i32)),
                method: TAXONOMY_METHOD.to_owned(),
                value: Some(f64::from(weight)),
            })
        })
        .collect();
    findings.sort_by(|a, b| b.confidence.total_cmp(&a.confidence));
    findings
}

const POSITIVE: &[&str] = &[
    "красив",
    "отличн",
    "хорош",
    "понрав",
    "класс",
    "супер",
    "спасиб",
    "нрав",
    "прекрасн",
    "качествен",
    "рекоменд",
    "удобн",
    "молодц",
    "шикарн",
    "великолепн",
    "лучш",
    "аккуратн",
    "жақсы",
    "керемет",
    "рахмет",
    "әдемі",
    "тамаша",
];
const NEGATIVE: &[&str] = &[
    "плох",
    "ужас",
    "некачеств",
    "брак",
    "разочар",
    "кошмар",
    "недовол",
    "сломал",
    "криво",
    "обман",
    "хуж",
    "жаман",
    "нашар",
    "сапасыз",
];
const NEGATIONS: &[&str] = &["не", "нет", "ни", "емес"];

pub const SENTIMENT_METHOD: &str = "Russian and Kazakh lexicon of word stems per comment, a negation (не, нет, ни, емес) flips the next word; confidence = share of comments with that sentiment";

/// The sentiment of one text: +1 positive, −1 negative, 0 neutral or mixed.
pub fn polarity(text: &str) -> i32 {
    let mut score = 0i32;
    let mut negated = false;
    for word in words(text) {
        if NEGATIONS.contains(&word.as_str()) {
            negated = true;
            continue;
        }
        let sign = if POSITIVE.iter().any(|s| word.starts_with(s)) {
            1
        } else if NEGATIVE.iter().any(|s| word.starts_with(s)) {
            -1
        } else {
            0
        };
        score += if negated { -sign } else { sign };
        negated = false;
    }
    score.signum()
}

/// The comments' sentiment: one finding per sentiment present, its share as confidence.
pub fn sentiment<'a>(comments: impl IntoIterator<Item = &'a str>) -> Vec<Finding> {
    let (mut counts, mut total) = ([0u32; 3], 0u32);
    for comment in comments {
        counts[(polarity(comment) + 1) as usize] += 1;
        total += 1;
    }
    let mut findings: Vec<Finding> = [("negative", counts[0]), ("neutral", counts[1]), ("positive", counts[2])]
        .into_iter()
        .filter(|(_, n)| *n > 0)
        .map(|(label, n)| Finding {
            kind: "sentiment".into(),
            label: label.into(),
            confidence: round(f64::from(n) / f64::from(total)),
            method: SENTIMENT_METHOD.into(),
            value: Some(f64::from(n)),
        })
        .collect();
    findings.sort_by(|a, b| b.confidence.total_cmp(&a.confidence));
    findings
}

/// Sampled frames: `width`×`height` RGB, one after another.
pub struct Frames<'a> {
    pub rgb: &'a [u8],
    pub width: usize,
    pub height: usize,
}

pub const FRAMES_METHOD: &str = "frames sampled at 1 per second, scaled to 32×32 RGB by ffmpeg";

impl Frames<'_> {
    fn frames(&self) -> impl Iterator<Item = &[u8]> {
        self.rgb.chunks_exact(self.width * self.height * 3)
    }

    /// Dominant colours (named), mean brightness, scene cuts.
    pub fn scene(&self) -> Vec<Finding> {
        let frames: Vec<&[u8]> = self.frames().collect();
        if frames.is_empty() {
            return Vec::new();
        }
        let mut named = std::collections::BTreeMap::<&str, u64>::new();
        let mut pixels = 0u64;
        let mut luma_sum = 0f64;
        for frame in &frames {
            for px in frame.chunks_exact(3) {
                *named.entry(colour_name(px[0], px[1], px[2])).or_default() += 1;
                luma_sum += luma(px);
                pixels += 1;
            }
        }
        let mut findings: Vec<Finding> = named
            .into_iter()
            .map(|(name, n)| (name, n as f64 / pixels as f64))
            .filter(|(_, share)| *share >= 0.05)
            .map(|(name, share)| Finding {
                kind: "colour".into(),
                label: name.into(),
                confidence: round(share),
                method: format!("{FRAMES_METHOD}; share of pixels nearest to the named colour"),
                value: Some(round(share)),
            })
            .collect();
        findings.sort_by(|a, b| b.confidence.total_cmp(&a.confidence));
        let brightness = luma_sum / pixels as f64 / 255.0;
        let label = match brightness {
            b if b < 0.25 => "dark",
            b if b < 0.6 => "normal",
            _ => "bright",
        };
        findings.push(Finding {
            kind: "brightness".into(),
            label: label.into(),
            confidence: 1.0,
            method: format!("{FRAMES_METHOD}; mean Rec. 601 luma (dark < 0.25 ≤ normal < 0.6 ≤ bright)"),
            value: Some(round(brightness)),
        });
        let cuts = frames.windows(2).filter(|pair| difference(pair[0], pair[1]) > 0.25).count();
        findings.push(Finding {
            kind: "scene_cuts".into(),
            label: cuts.to_string(),
            confidence: 1.0,
            method: format!("{FRAMES_METHOD}; a cut where consecutive samples differ by more than 25% on average"),
            value: Some(cuts as f64),
        });
        findings
    }
}

fn luma(px: &[u8]) -> f64 {
    0.299 * f64::from(px[0]) + 0.587 * f64::from(px[1]) + 0.114 * f64::from(px[2])
}

/// Mean absolute difference of two frames, 0 to 1.
fn difference(a: &[u8], b: &[u8]) -> f64 {
    let total: u64 = a.iter().zip(b).map(|(x, y)| u64::from(x.abs_diff(*y))).sum();
    total as f64 / (a.len() as f64 * 255.0)
}

/// The nearest of a few colour names furniture is described with.
fn colour_name(r: u8, g: u8, b: u8) -> &'static str {
    const PALETTE: &[(&str, [u8; 3])] = &[
        ("black", [20, 20, 20]),
        ("grey", [128, 128, 128]),
        ("white", [240, 240, 240]),
        ("beige", [222, 200, 160]),
        ("brown", [120, 75, 40]),
        ("red", [200, 30, 30]),
        ("orange", [240, 140, 30]),
        ("yellow", [235, 220, 50]),
        ("green", [40, 160, 60]),
        ("blue", [40, 80, 200]),
        ("cyan", [40, 200, 210]),
        ("purple", [140, 50, 170]),
        ("pink", [240, 150, 190]),
    ];
    let distance = |c: &[u8; 3]| {
        let d = |x: u8, y: u8| (i32::from(x) - i32::from(y)).pow(2);
        d(r, c[0]) + d(g, c[1]) + d(b, c[2])
    };
    PALETTE.iter().min_by_key(|(_, c)| distance(c)).map_or("grey", |(name, _)| name)
}

fn round(x: f64) -> f64 {
    (x * 1000.0).round() / 1000.0
}

/// Findings at or above `threshold`.
pub fn above(findings: Vec<Finding>, threshold: f64) -> Vec<Finding> {
    findings.into_iter().filter(|f| f.confidence >= threshold).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_taxonomy_finds_items_materials_and_styles_in_russian_and_kazakh() {
        let tags = vec!["шкафкупе".to_owned(), "мебель".to_owned()];
        let found =
            taxonomy("Кухня из массива дуба", "Современный стиль, фасады МДФ", &tags, &["item", "material", "style"]);
        let labels: Vec<(&str, &str, f64)> =
            found.iter().map(|f| (f.kind.as_str(), f.label.as_str(), f.confidence)).collect();
        assert!(labels.contains(&("material", "solid_wood", 0.938)), "{labels:?}"); // массива ×2 + дуба ×2
        assert!(labels.contains(&("item", "kitchen", 0.75)), "{labels:?}");
        assert!(labels.contains(&("item", "wardrobe", 0.75)), "{labels:?}");
        assert!(labels.contains(&("style", "modern", 0.5)), "{labels:?}");
        assert!(labels.contains(&("material", "mdf", 0.5)), "{labels:?}");
        let kazakh = taxonomy("Ас үй жиһазы, емен ағашынан", "", &[], &["item", "material"]);
        assert!(kazakh.iter().any(|f| f.label == "solid_wood"), "{kazakh:?}");
        assert!(taxonomy("Красивое видео", "", &[], &["item"]).is_empty(), "nothing invented");
        assert!(found.iter().all(|f| f.method == TAXONOMY_METHOD));
    }

    #[test]
    fn sentiment_counts_comments_with_negation() {
        assert_eq!(polarity("Очень красиво, спасибо!"), 1);
        assert_eq!(polarity("Не понравилось, брак"), -1);
        assert_eq!(polarity("Не плохо"), 1);
        assert_eq!(polarity("Сколько стоит?"), 0);
        assert_eq!(polarity("Өте әдемі, рахмет"), 1);
        let found = sentiment(["Отлично!", "Класс", "Ужас", "Где купить?"]);
        assert_eq!((found[0].label.as_str(), found[0].confidence), ("positive", 0.5));
        assert_eq!(found.len(), 3);
        assert!(sentiment(std::iter::empty()).is_empty());
    }

    #[test]
    fn frames_give_colours_brightness_and_cuts() {
        // Two white frames, then two black ones: one cut; half white, half black.
        let (w, h) = (4, 4);
        let mut rgb = vec![250u8; w * h * 3 * 2];
        rgb.extend(vec![10u8; w * h * 3 * 2]);
        let found = Frames { rgb: &rgb, width: w, height: h }.scene();
        let get = |kind: &str| found.iter().find(|f| f.kind == kind).unwrap();
        assert_eq!(get("scene_cuts").label, "1");
        assert_eq!(get("brightness").label, "normal");
        let colours: Vec<(&str, f64)> =
            found.iter().filter(|f| f.kind == "colour").map(|f| (f.label.as_str(), f.confidence)).collect();
        assert_eq!(colours.len(), 2);
        assert!(colours.contains(&("white", 0.5)) && colours.contains(&("black", 0.5)));
        assert!(Frames { rgb: &[], width: w, height: h }.scene().is_empty());
        assert_eq!(above(found, 0.9).len(), 2, "brightness and cuts are measured, not guessed");
    }

    #[test]
    fn types_parse() {
        assert_eq!(AnalysisType::parse("scene"), Some(AnalysisType::Scene));
        assert_eq!(AnalysisType::parse("faces"), None);
    }
}
