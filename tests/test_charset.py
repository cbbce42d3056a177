from __future__ import annotations

import codecs

import pytest

from newsarchive.archive.charset import decode_html

TEXT = "Außenministerin Choe Son Hui in Pjöngjang: „Größte Aufrichtigkeit“ – übermäßig?"


def test_declared_charset_is_used() -> None:
    body = f"<html><head><meta charset=iso-8859-15></head><body>{TEXT[:40]}</body></html>".encode("iso-8859-15")
    text, enc = decode_html(body, "text/html")
    assert TEXT[:40] in text and enc == "iso8859-15"


def test_wrong_declared_charset_falls_back_to_a_guess() -> None:
    body = ("<html><body><p>" + TEXT.replace("„", '"').replace("“", '"').replace("–", "-") * 5
            + "</p></body></html>").encode("latin-1")
    text, enc = decode_html(body, "text/html; charset=utf-8")
    assert "Außenministerin" in text and "\ufffd" not in text and enc != "utf-8"


def test_bom_and_undeclared_utf8() -> None:
    assert decode_html(b"\xef\xbb\xbf<p>\xc3\xa4</p>")[0] == "<p>ä</p>"
    assert decode_html("<p>Pjöngjang</p>".encode())[0] == "<p>Pjöngjang</p>"
    text, _ = decode_html(b"\xff\xfe\x00garbage\x80\x81")
    assert isinstance(text, str)


# -- a corpus of mislabelled pages, generated: real news prose in several languages, wrong declarations -------
PROSE = {
    "de": "Die Stadtverwaltung von Zürich hat am Donnerstag angekündigt, dass die Brücke über die Limmat für drei "
          "Wochen gesperrt wird. Fußgänger müssen einen Umweg über den Bahnhofplatz nehmen. Die Bauarbeiten sollen "
          "die Tragfähigkeit erhöhen; Anwohner äußerten Verständnis, kritisierten aber die späte Information.",
    "fr": "Le gouvernement français a présenté mercredi un projet de loi visant à réduire la dépense publique. Les "
          "élus de l'opposition dénoncent une réforme « brutale » qui pénaliserait les ménages les plus modestes, "
          "tandis que le ministre évoque une nécessité budgétaire pour l'année à venir.",
    "es": "El Ayuntamiento de Málaga aprobó ayer una partida extraordinaria para la rehabilitación del puerto. Según "
          "el alcalde, las obras comenzarán en otoño y durarán año y medio; los pescadores piden que no se "
          "interrumpa su actividad durante la campaña de invierno. ¿Será suficiente?",
    "pl": "Władze Łodzi ogłosiły w środę, że remont głównego dworca potrwa dłużej, niż zakładano. Pasażerowie muszą "
          "się liczyć z utrudnieniami aż do końca przyszłego roku. Zarząd spółki tłumaczy opóźnienie źle "
          "przygotowaną dokumentacją i rosnącymi cenami materiałów.",
    "cs": "Ministerstvo dopravy v úterý oznámilo, že stavba dálnice u Českých Budějovic se zpozdí o další dva měsíce. "
          "Řidiči musí počítat s objížďkami přes okolní obce. Podle mluvčího je příčinou nedostatek pracovníků a "
          "složité geologické podmínky v úseku u řeky.",
    "tr": "İstanbul Büyükşehir Belediyesi, şehirdeki toplu taşıma ücretlerine yüzde yirmi zam yapılacağını açıkladı. "
          "Öğrenciler ve emekliler için indirimli tarifeler korunacak. Muhalefet partileri kararın dar gelirli "
          "aileleri zorlayacağını söyleyerek eleştirdi.",
    "ru": "Правительство Москвы в четверг объявило о закрытии нескольких станций метро на ремонт. Пассажирам "
          "рекомендуют заранее планировать поездки и пользоваться наземным транспортом. По словам представителей "
          "метрополитена, работы продлятся до конца следующего месяца.",
    "el": "Η κυβέρνηση ανακοίνωσε την Πέμπτη νέα μέτρα στήριξης για τους αγρότες που επλήγησαν από τις πλημμύρες "
          "στη Θεσσαλία. Οι αποζημιώσεις θα καταβληθούν μέχρι το τέλος του μήνα, σύμφωνα με τον αρμόδιο υπουργό.",
}
LEGACY = {"de": "iso-8859-1", "fr": "windows-1252", "es": "iso-8859-15", "pl": "iso-8859-2", "cs": "windows-1250",
          "tr": "iso-8859-9", "ru": "windows-1251", "el": "iso-8859-7"}
SCRIPT = "<script>" + "var trackers = ['a', 'b', 'c']; function load(x) { return x + 1; }\n" * 60 + "</script>"


def page(lang: str, paragraphs: int, where: str, label: str) -> tuple[str, str | None]:
    """(HTML, Content-Type) with the charset declared in the header, the meta tag, or both."""
    meta = f'<meta charset="{label}">' if where in ("meta", "both") else ""
    body = "".join(f"<p>{PROSE[lang]}</p>" for _ in range(paragraphs))
    html = (f'<!DOCTYPE html><html lang="{lang}"><head>{meta}<title>{PROSE[lang][:40]}</title>{SCRIPT}</head>'
            f'<body><nav><a href="/">Home</a></nav><article><h1>{PROSE[lang][:60]}</h1>{body}</article></body></html>')
    return html, f"text/html; charset={label}" if where in ("header", "both") else "text/html"


MISLABELLED = (
    # UTF-8 declared as a Western single-byte charset: the most common case, in every language
    [(lang, "utf-8", label) for lang in PROSE for label in ("iso-8859-1", "windows-1252")]
    + [("pl", "utf-8", "iso-8859-2"), ("ru", "utf-8", "windows-1251"), ("ru", "utf-8", "koi8-r"),
       ("el", "utf-8", "iso-8859-7"), ("tr", "utf-8", "iso-8859-9")]
    # a wrong legacy codepage
    + [("ru", "windows-1251", "koi8-r"), ("ru", "koi8-r", "windows-1251"), ("ru", "windows-1251", "iso-8859-5"),
       ("ru", "iso-8859-5", "windows-1251"), ("pl", "windows-1250", "iso-8859-1"), ("el", "windows-1253", "iso-8859-1"),
       ("el", "iso-8859-7", "windows-1251")]
)


@pytest.mark.parametrize("where", ["header", "meta", "both"])
@pytest.mark.parametrize("paragraphs", [1, 6])
@pytest.mark.parametrize(("lang", "actual", "label"), MISLABELLED, ids=lambda v: str(v))
def test_mislabelled_pages_decode_to_their_text(lang: str, actual: str, label: str, paragraphs: int,
                                                where: str) -> None:
    html, content_type = page(lang, paragraphs, where, label)
    raw = html.encode(actual)
    assert raw.decode(label, "replace") != html  # the declared charset really gives mojibake
    text, encoding = decode_html(raw, content_type)
    assert PROSE[lang] in text, (encoding, text[text.find("<p>"):][:120])
    assert codecs.lookup(encoding).name == codecs.lookup(actual).name or actual != "utf-8"


@pytest.mark.parametrize("paragraphs", [1, 6])
@pytest.mark.parametrize("lang", sorted(LEGACY))
def test_correct_declarations_are_kept(lang: str, paragraphs: int) -> None:
    for actual in (LEGACY[lang], "utf-8"):
        html, content_type = page(lang, paragraphs, "both", actual)
        text, encoding = decode_html(html.encode(actual), content_type)
        assert text == html and encoding == codecs.lookup(actual).name


def test_header_wins_over_meta_unless_the_bytes_are_utf8() -> None:
    html, _ = page("de", 2, "meta", "utf-8")
    text, encoding = decode_html(html.encode("utf-8"), "text/html; charset=iso-8859-1")
    assert (text, encoding) == (html, "utf-8")
    legacy = html.replace('charset="utf-8"', 'charset="utf-8"').encode("iso-8859-1")
    assert decode_html(legacy, "text/html; charset=iso-8859-1") == (html, "iso8859-1")
