"""The client's errors: messages that name what and where, without secrets; pickling."""

from __future__ import annotations

import asyncio
import pickle

from multidict import CIMultiDict, CIMultiDictProxy
from yarl import URL

import httpwire.client as client
from httpwire.client import (
    ClientError,
    ClientResponseError,
    ContentConsumedError,
    ContentTypeError,
    InvalidURL,
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


def test_errors_pickle() -> None:
    errors: list[ClientError] = [
        ClientResponseError(INFO, (), status=500, message="boom"),
        InvalidURL("ftp://h/", "scheme 'ftp' is not supported"),
        ContentTypeError(INFO, (), status=200, content_type="text/html"),
        TooManyRedirects(INFO, (), max_redirects=3),
        ContentConsumedError("GET", URL("http://h/"), consumed=10),
    ]
    for error in errors:
        copy = pickle.loads(pickle.dumps(error))
        assert type(copy) is type(error)
        assert str(copy) == str(error)


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
