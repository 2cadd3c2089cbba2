//! What a notification says, in Russian or Kazakh: a title and a text for every channel, and
//! for e-mail an HTML version (verification, welcome, new proposal, order status and digest
//! have their own layouts; the rest share one).

use super::Kind;
use serde_json::Value;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lang {
    Ru,
    Kk,
}

impl Lang {
    pub fn of(locale: &str) -> Self {
        if locale.starts_with("kk") || locale.starts_with("kz") { Self::Kk } else { Self::Ru }
    }
}

/// A notification put into words.
#[derive(Debug, Clone, PartialEq)]
pub struct Rendered {
    pub title: String,
    pub text: String,
    pub html: String,
}

fn pick(lang: Lang, ru: String, kk: String) -> String {
    match lang {
        Lang::Ru => ru,
        Lang::Kk => kk,
    }
}

fn field<'a>(data: &'a Value, name: &str) -> &'a str {
    data[name].as_str().unwrap_or_default()
}

fn number(data: &Value, name: &str) -> i64 {
    data[name].as_i64().unwrap_or_default()
}

/// Tenge from tiyn, grouped by thousands: 15 000 000 tiyn → "150 000 ₸".
fn tenge(minor: i64) -> String {
    let digits = (minor / 100).to_string();
    let mut grouped = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            grouped.push(' ');
        }
        grouped.push(c);
    }
    format!("{grouped} ₸")
}

fn order_status(lang: Lang, status: &str) -> String {
    let (ru, kk) = match status {
        "pending" => ("ожидает подтверждения мастера", "шебердің растауын күтуде"),
        "accepted" => ("принят мастером", "шебер қабылдады"),
        "in_progress" => ("в работе", "орындалуда"),
        "completed" => ("выполнен", "орындалды"),
        "cancelled" => ("отменён", "тоқтатылды"),
        "revision" => ("отправлен на доработку", "пысықтауға жіберілді"),
        other => (other, other),
    };
    pick(lang, ru.into(), kk.into())
}

/// Escapes text for HTML.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

fn layout(lang: Lang, title: &str, inner: &str) -> String {
    let footer = pick(
        lang,
        "Вы получили это письмо, потому что зарегистрированы на MebelPlace.".into(),
        "Сіз бұл хатты MebelPlace-те тіркелгендіктен алдыңыз.".into(),
    );
    format!(
        "<!DOCTYPE html><html lang=\"{lang}\"><head><meta charset=\"utf-8\"><title>{title}</title></head>\
         <body style=\"font-family:Arial,sans-serif;color:#222\"><h1 style=\"font-size:20px\">{title}</h1>{inner}\
         <p style=\"color:#888;font-size:12px\">{footer}</p></body></html>",
        lang = if lang == Lang::Kk { "kk" } else { "ru" },
        title = escape(title),
    )
}

fn paragraph(text: &str) -> String {
    format!("<p>{}</p>", escape(text))
}

/// Puts a notification of `kind` with `data` into words in `lang`.
pub fn render(kind: Kind, data: &Value, lang: Lang) -> Rendered {
    let (title, text) = words(kind, data, lang);
    let html = match kind {
        Kind::Verification => {
            let code = escape(field(data, "code"));
            let note = pick(
                lang,
                "Код действует 10 минут. Никому его не сообщайте.".into(),
                "Код 10 минут жарамды. Оны ешкімге айтпаңыз.".into(),
            );
            layout(
                lang,
                &title,
                &format!("<p style=\"font-size:28px;letter-spacing:6px\"><b>{code}</b></p>{}", paragraph(&note)),
            )
        }
        Kind::Digest => {
            let items: String = data["kinds"]
                .as_object()
                .into_iter()
                .flatten()
                .map(|(kind, count)| {
                    let (name, _) = Kind::parse(kind).map(|k| words(k, &Value::Null, lang)).unwrap_or_default();
                    format!("<li>{}: {}</li>", escape(&name), count.as_i64().unwrap_or_default())
                })
                .collect();
            layout(lang, &title, &format!("{}<ul>{items}</ul>", paragraph(&text)))
        }
        Kind::NewProposal | Kind::OrderStatus | Kind::Welcome => {
            let link = pick(lang, "Открыть MebelPlace".into(), "MebelPlace ашу".into());
            layout(
                lang,
                &title,
                &format!("{}<p><a href=\"https://mebelplace.com.kz\">{}</a></p>", paragraph(&text), escape(&link)),
            )
        }
        _ => layout(lang, &title, &paragraph(&text)),
    };
    Rendered { title, text, html }
}

fn words(kind: Kind, data: &Value, lang: Lang) -> (String, String) {
    // Another service's words (`notification.requested`) are used as given.
    if let (Some(title), Some(body)) = (data["title"].as_str(), data["body"].as_str())
        && !title.is_empty()
        && !body.is_empty()
        && !kind.is_security()
    {
        return (title.to_owned(), body.to_owned());
    }
    let t = |ru: &str, kk: &str| pick(lang, ru.to_owned(), kk.to_owned());
    match kind {
        Kind::Verification => {
            let code = field(data, "code");
            (
                t("Код подтверждения", "Растау коды"),
                pick(lang, format!("MebelPlace: ваш код {code}"), format!("MebelPlace: сіздің кодыңыз {code}")),
            )
        }
        Kind::Welcome => {
            let name = field(data, "username");
            (
                t("Добро пожаловать в MebelPlace", "MebelPlace-ке қош келдіңіз"),
                pick(
                    lang,
                    format!("{name}, спасибо за регистрацию! Здесь мастера и покупатели мебели находят друг друга."),
                    format!(
                        "{name}, тіркелгеніңізге рахмет! Мұнда жиһаз шеберлері мен сатып алушылар бір-бірін табады."
                    ),
                ),
            )
        }
        Kind::NewRequest => {
            let title = field(data, "title");
            (
                t("Новая заявка", "Жаңа өтінім"),
                pick(
                    lang,
                    format!("Новая заявка в вашем регионе: «{title}»"),
                    format!("Сіздің өңіріңізде жаңа өтінім: «{title}»"),
                ),
            )
        }
        Kind::NewProposal => {
            let (price, days) = (tenge(number(data, "price_minor")), number(data, "deadline_days"));
            (
                t("Новое предложение", "Жаңа ұсыныс"),
                pick(
                    lang,
                    format!("Мастер предложил выполнить вашу заявку за {price}, срок {days} дн."),
                    format!("Шебер өтініміңізді {price} бағамен, {days} күнде орындауды ұсынды."),
                ),
            )
        }
        Kind::ProposalAccepted => (
            t("Предложение принято", "Ұсыныс қабылданды"),
            pick(
                lang,
                format!("Покупатель принял ваше предложение, заказ №{}", number(data, "order_id")),
                format!("Сатып алушы ұсынысыңызды қабылдады, тапсырыс №{}", number(data, "order_id")),
            ),
        ),
        Kind::OrderStatus => {
            let (order, status) = (number(data, "order_id"), order_status(lang, field(data, "status")));
            (
                t("Статус заказа", "Тапсырыс күйі"),
                pick(lang, format!("Заказ №{order} {status}."), format!("№{order} тапсырыс: {status}.")),
            )
        }
        Kind::Review => {
            let rating = number(data, "rating");
            (
                t("Новый отзыв", "Жаңа пікір"),
                pick(
                    lang,
                    format!("Покупатель оценил вашу работу: {rating} из 5"),
                    format!("Сатып алушы жұмысыңызды бағалады: 5-тен {rating}"),
                ),
            )
        }
        Kind::ChatMessage => {
            // A file without a caption is named by its kind.
            let body = match (field(data, "preview"), field(data, "message_kind")) {
                ("", "image") => t("📷 Фото", "📷 Фотосурет"),
                ("", "voice") => t("🎤 Голосовое сообщение", "🎤 Дауыстық хабарлама"),
                ("", "video") => t("🎬 Видео", "🎬 Бейне"),
                ("", "file") => t("📎 Файл", "📎 Файл"),
                ("", _) => t("Новое сообщение", "Жаңа хабарлама"),
                (preview, _) => preview.to_owned(),
            };
            (t("Новое сообщение", "Жаңа хабарлама"), body)
        }
        Kind::IncomingCall => (
            t("Входящий звонок", "Кіріс қоңырау"),
            t("Вам звонят в MebelPlace", "Сізге MebelPlace-те қоңырау шалып жатыр"),
        ),
        Kind::MissedCall => (
            t("Пропущенный звонок", "Қабылданбаған қоңырау"),
            t("У вас пропущенный звонок", "Сізде қабылданбаған қоңырау бар"),
        ),
        Kind::Like => (t("Новый лайк", "Жаңа лайк"), t("Ваше видео понравилось", "Сіздің бейнеңіз ұнады")),
        Kind::Comment => (
            t("Новый комментарий", "Жаңа пікір"),
            t("К вашему видео оставили комментарий", "Бейнеңізге пікір қалдырылды"),
        ),
        Kind::NewFollower => (t("Новый подписчик", "Жаңа жазылушы"), t("На вас подписались", "Сізге жазылды")),
        Kind::Achievement => {
            let name = field(data, "title");
            (
                t("Новое достижение", "Жаңа жетістік"),
                pick(lang, format!("Вы получили достижение «{name}»"), format!("Сіз «{name}» жетістігін алдыңыз")),
            )
        }
        Kind::TicketReply => (
            t("Ответ поддержки", "Қолдау қызметінің жауабы"),
            pick(
                lang,
                format!("Поддержка ответила на обращение №{}", number(data, "ticket_id")),
                format!("Қолдау қызметі №{} өтінішке жауап берді", number(data, "ticket_id")),
            ),
        ),
        Kind::Digest => {
            let count = number(data, "count");
            (
                t("Что нового в MebelPlace", "MebelPlace-те не жаңалық"),
                pick(lang, format!("Новых уведомлений: {count}"), format!("Жаңа хабарламалар: {count}")),
            )
        }
        Kind::Other => {
            let title = field(data, "title");
            (if title.is_empty() { "MebelPlace".to_owned() } else { title.to_owned() }, field(data, "body").to_owned())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn every_kind_has_words_in_both_languages() {
        for kind in Kind::ALL {
            for lang in [Lang::Ru, Lang::Kk] {
                let rendered = render(kind, &json!({ "title": "Шкаф", "body": "Текст", "count": 2 }), lang);
                assert!(!rendered.title.is_empty(), "{kind:?}");
                assert!(rendered.html.starts_with("<!DOCTYPE html>"));
            }
        }
    }

    #[test]
    fn proposal_in_tenge_and_kazakh() {
        let data = json!({ "price_minor": 15_000_000, "deadline_days": 14 });
        assert!(render(Kind::NewProposal, &data, Lang::Ru).text.contains("150 000 ₸"));
        assert_eq!(render(Kind::NewProposal, &data, Lang::Kk).title, "Жаңа ұсыныс");
        assert_eq!(Lang::of("kk-KZ"), Lang::Kk);
        assert_eq!(Lang::of("en"), Lang::Ru);
    }

    #[test]
    fn a_file_without_a_caption_is_named_by_its_kind() {
        let message = |preview: &str, kind: &str| json!({ "preview": preview, "message_kind": kind });
        assert_eq!(render(Kind::ChatMessage, &message("", "image"), Lang::Ru).text, "📷 Фото");
        assert_eq!(render(Kind::ChatMessage, &message("", "voice"), Lang::Kk).text, "🎤 Дауыстық хабарлама");
        assert_eq!(render(Kind::ChatMessage, &message("Смета", "file"), Lang::Ru).text, "Смета");
        assert_eq!(render(Kind::ChatMessage, &message("", "text"), Lang::Ru).text, "Новое сообщение");
    }

    #[test]
    fn user_text_is_escaped_in_html() {
        let rendered = render(Kind::NewRequest, &json!({ "title": "<script>x</script>" }), Lang::Ru);
        assert!(rendered.html.contains("&lt;script&gt;") && !rendered.html.contains("<script>"));
        assert!(render(Kind::Verification, &json!({ "code": "123456" }), Lang::Ru).text.contains("123456"));
    }
}
