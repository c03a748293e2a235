"""The client's errors: messages that name what and where, without secrets; pickling."""

from __future__ import annotations

import asyncio
import pickle

import pytest
from multidict import CIMultiDict, CIMultiDictProxy
from yarl import URL

import httpwire.client as client
from httpwire.client import (
    ClientError,
    ClientResponseError,
    ContentConsumedError,
    ContentTypeError,
    DigestBodyError,
    InvalidURL,
    RedirectBodyError,
    RequestInfo,
    TooManyRedirects,
)

INFO = RequestInfo(
    "GET",
    URL("http://user:secret@h/x"),
    CIMultiDictProxy(CIMultiDict({"Authorization": "Basic c2VjcmV0"})),
    URL("http://h/x"),
)


def test_response_error_message_and_attributes() -> None:
    error = ClientResponseError(INFO, (), status=404, message="Not Found", headers={"X": "1"})
    assert str(error) == "404, message='Not Found' for GET http://h/x"
    assert "secret" not in str(error) and "c2VjcmV0" not in str(error)
    assert error.status == 404
    assert error.headers is not None and error.headers["x"] == "1"
    assert error.request_info is INFO
    assert isinstance(error, ClientError)


EXAMPLES: list[ClientError] = [
    ClientResponseError(INFO, (), status=500, message="boom", headers={"X": "1"}),
    ClientResponseError(None, (), status=404),
    InvalidURL("ftp://h/", "scheme 'ftp' is not supported"),
    InvalidURL(URL("http://u:secret@h:1/"), "no reason"),
    ContentTypeError(INFO, (), status=200, content_type="text/html"),
    TooManyRedirects(INFO, (), max_redirects=3),
    RedirectBodyError(INFO, (), status=307, location=URL("http://u:secret@h/next")),
    ContentConsumedError("GET", URL("http://h/"), consumed=10),
    ContentConsumedError("GET", URL("http://u:secret@h/"), call="json", released=True),
    DigestBodyError(INFO, (), realm="r"),
]


def test_every_error_class_has_an_example() -> None:
    classes = {
        obj
        for name in client.__all__
        if isinstance(obj := getattr(client, name), type)
        and issubclass(obj, ClientError)
        and obj.__module__.startswith("httpwire.client")
    }
    assert classes <= {type(error) for error in EXAMPLES}


@pytest.mark.parametrize("error", EXAMPLES, ids=lambda e: type(e).__name__)
def test_errors_pickle_with_message_and_attributes(error: ClientError) -> None:
    copy = pickle.loads(pickle.dumps(error))
    assert type(copy) is type(error)
    assert str(copy) == str(error) and copy.args == error.args == (str(error),)
    assert repr(vars(copy)) == repr(vars(error))


@pytest.mark.parametrize("error", EXAMPLES, ids=lambda e: type(e).__name__)
def test_no_message_or_url_keeps_credentials(error: ClientError) -> None:
    assert "secret" not in str(error) and "c2VjcmV0" not in str(error)
    for name in ("url", "location"):
        url = getattr(error, name, None)
        assert "secret" not in str(url), name


def test_a_url_given_as_text_loses_its_userinfo_too() -> None:
    """Text that does not parse as a URL may still hold a password: it is not kept."""
    error = InvalidURL("http://user:s3cret@h:99999999/x", "port out of range")
    assert error.url == "http://h:99999999/x"
    assert str(error) == "invalid URL 'http://h:99999999/x': port out of range"


def test_messages_are_rendered_from_the_attributes() -> None:
    error = ClientResponseError(INFO, (), status=404, message="Not Found")
    error.status = 410
    assert str(error) == "410, message='Not Found' for GET http://h/x"


def test_content_type_error_names_the_actual_type() -> None:
    error = ContentTypeError(INFO, (), status=200, content_type="text/html; charset=utf-8")
    assert "'text/html; charset=utf-8'" in str(error)
    assert isinstance(error, ClientResponseError)


def test_invalid_url_is_a_value_error_and_hides_credentials() -> None:
    error = InvalidURL(URL("ftp://u:pw@h/"), "bad scheme")
    assert isinstance(error, ValueError)
    assert "pw" not in str(error)


def test_timeouts_are_asyncio_timeouts() -> None:
    for cls in (client.TotalTimeoutError, client.ConnectTimeoutError, client.ReadTimeoutError):
        assert issubclass(cls, asyncio.TimeoutError)
        assert issubclass(cls, client.ClientTimeoutError)


def test_every_public_name_is_documented() -> None:
    for name in client.__all__:
        if name.startswith("__"):
            continue
        obj = getattr(client, name)
        if isinstance(obj, type) or callable(obj):
            assert obj.__doc__, name
