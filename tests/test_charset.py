from __future__ import annotations

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
