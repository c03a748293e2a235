"""Part header checks, boundaries and the parameters of Content-Type/-Disposition."""

from __future__ import annotations

import pytest

from httpwire.forms import content_disposition, parse_header_params, validate_boundary
from httpwire.forms._headers import check_header, format_content_type


@pytest.mark.parametrize(
    "boundary",
    ["a", "0" * 70, "simple boundary", "'()+_,-./:=?", "gc0p4Jq0M2Yt08jU534c0p"],
)
def test_valid_boundaries_per_rfc2046_5_1_1_are_accepted(boundary: str) -> None:
    assert validate_boundary(boundary) == boundary


@pytest.mark.parametrize(
    ("boundary", "why"),
    [
        ("", "empty"),
        ("x" * 71, "71 characters"),
        ("ends with space ", "trailing space"),
        ("semi;colon", "';' is not a bchar"),
        ('quo"te', "'\"' is not a bchar"),
        ("crlf\r\nX-Injected: 1", "CR LF"),
        ("caf\u00e9", "non-ASCII"),
    ],
)
def test_invalid_boundaries_are_rejected_rfc2046_5_1_1(boundary: str, why: str) -> None:
    with pytest.raises(ValueError, match=r"invalid multipart boundary .*RFC 2046 §5\.1\.1"):
        validate_boundary(boundary)


def test_boundary_must_be_str() -> None:
    with pytest.raises(TypeError, match="boundary must be str, not bytes"):
        validate_boundary(b"abc")  # type: ignore[arg-type]  # the point of the test


@pytest.mark.parametrize("value", ["a\r\nX-Evil: 1", "a\nb", "a\rb", "a\x00b"])
def test_cr_lf_nul_in_a_header_value_cannot_inject_a_header(value: str) -> None:
    with pytest.raises(
        ValueError, match=r"part header 'X-Custom' value .* contains CR, LF or NUL"
    ):
        check_header("X-Custom", value)


@pytest.mark.parametrize("name", ["X Bad", "X:Bad", "X\r\nY", "", "Ü"])
def test_header_name_must_be_a_token(name: str) -> None:
    with pytest.raises(ValueError, match=r"part header name .* is not a token \(RFC 9110 §5\.1\)"):
        check_header(name, "v")


def test_form_data_names_escape_quote_cr_lf_as_browsers_do_rfc7578_4_2() -> None:
    value = content_disposition(
        "form-data", [("name", 'a"b\r\nc'), ("filename", "résumé \\ 1.pdf")], form_data=True
    )
    # UTF-8 stays as is, backslash stays as is, never filename*.
    assert value == 'form-data; name="a%22b%0D%0Ac"; filename="résumé \\ 1.pdf"'
    assert "filename*" not in value


def test_form_data_without_quoting_rejects_what_it_cannot_send() -> None:
    assert (
        content_disposition("form-data", [("name", "plain")], form_data=True, quote_fields=False)
        == 'form-data; name="plain"'
    )
    with pytest.raises(ValueError, match=r"name='a\"b' holds a '\"', CR or LF.*RFC 7578 §4\.2"):
        content_disposition("form-data", [("name", 'a"b')], form_data=True, quote_fields=False)


def test_other_subtypes_use_rfc8187_for_non_ascii_filenames() -> None:
    value = content_disposition("attachment", [("filename", "€ rates.txt")], form_data=False)
    assert value == "attachment; filename*=utf-8''%E2%82%AC%20rates.txt"
    ascii_value = content_disposition("inline", [("filename", 'say "hi".txt')], form_data=False)
    assert ascii_value == 'inline; filename="say \\"hi\\".txt"'


def test_cr_lf_in_other_subtypes_goes_percent_encoded() -> None:
    value = content_disposition("attachment", [("filename", "a\r\nb")], form_data=False)
    assert value == "attachment; filename*=utf-8''a%0D%0Ab"


def test_nul_in_a_disposition_parameter_is_rejected() -> None:
    with pytest.raises(ValueError, match=r"parameter name='a\\x00' contains NUL"):
        content_disposition("form-data", [("name", "a\x00")], form_data=True)


def test_disposition_type_and_parameter_names_must_be_tokens() -> None:
    with pytest.raises(ValueError, match=r"disposition type 'form data' is not a token"):
        content_disposition("form data", [], form_data=True)
    with pytest.raises(ValueError, match=r"parameter name 'na me' is not a token"):
        content_disposition("form-data", [("na me", "x")], form_data=True)


def test_content_type_params_are_quoted_only_when_needed() -> None:
    assert format_content_type("multipart/mixed", {"boundary": "abc"}) == (
        "multipart/mixed; boundary=abc"
    )
    assert format_content_type("multipart/mixed", {"boundary": "a b:c"}) == (
        'multipart/mixed; boundary="a b:c"'
    )


def test_parse_form_data_disposition_undoes_browser_escapes() -> None:
    main, params = parse_header_params(
        'form-data; name="a%22b%0D%0Ac"; filename="C:\\dir\\x.txt"', form_data=True
    )
    assert main == "form-data"
    assert params == {"name": 'a"b\r\nc', "filename": "C:\\dir\\x.txt"}


def test_parse_quoted_pairs_outside_form_data() -> None:
    _, params = parse_header_params('attachment; filename="say \\"hi\\".txt"; size=12')
    assert params == {"filename": 'say "hi".txt', "size": "12"}


def test_parse_extended_parameter_wins_over_plain_one() -> None:
    _, params = parse_header_params(
        "attachment; filename=\"rates.txt\"; filename*=UTF-8''%E2%82%AC%20rates.txt"
    )
    assert params["filename"] == "€ rates.txt"


def test_parse_invalid_extended_parameter_is_dropped() -> None:
    _, params = parse_header_params("attachment; filename=a.txt; filename*=nope")
    assert params == {"filename": "a.txt"}


def test_parse_content_type_with_case_and_spaces() -> None:
    main, params = parse_header_params('Multipart/Form-Data ;  Boundary = "x y" ;charset=utf-8')
    assert main == "multipart/form-data"
    assert params == {"boundary": "x y", "charset": "utf-8"}


def test_parse_skips_garbage_parameters() -> None:
    main, params = parse_header_params('text/plain; ;; =x; "bad"; charset=latin-1')
    assert main == "text/plain"
    assert params == {"charset": "latin-1"}
