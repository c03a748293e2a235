"""From the options to what ClientSession needs: connector, session and request arguments.

Strategy: every decision about the request is made here, before anything is sent, so a bad
file or a bad fingerprint stops the command with a clear message and no connection. The
body is built from httpwire.forms' payloads: a JSON or urlencoded body is small and kept as
bytes (so ``--print B`` shows exactly what is sent), while files and standard input stay
file payloads, read in pieces while they are sent and never whole. Files opened here are
closed by the :class:`contextlib.AsyncExitStack` the caller passes in.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import os
import socket
import ssl
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import IO, Final

from multidict import CIMultiDict
from yarl import URL

from httpwire.client import (
    DEFAULT_TIMEOUT,
    BasicAuth,
    BytesPayload,
    ClientSession,
    ClientTimeout,
    Connector,
    FilePayload,
    Fingerprint,
    FormData,
    Payload,
    StringPayload,
    TCPConnector,
    UnixConnector,
    payload_from,
)

from ._args import Options
from ._items import Item, ItemKind, UsageError, shown

__all__ = ["LocalFileError", "RequestPlan", "plan_request"]

Stack = contextlib.ExitStack | contextlib.AsyncExitStack
"""Where opened files are registered, to be closed after the request."""

JSON_TYPE: Final = "application/json"
JSON_ACCEPT: Final = "application/json, */*;q=0.5"
FORM_TYPE: Final = "application/x-www-form-urlencoded"


class LocalFileError(Exception):
    """A file named on the command line cannot be read (or a download cannot be written)."""


@dataclass(slots=True)
class RequestPlan:
    """What to send, ready for :class:`ClientSession`.

    Attributes:
        method: The method, upper case.
        url: The URL.
        params: Query parameters from ``name==value`` items, in order.
        headers: Headers from ``Name:value`` items and the command's own choices.
        skip_auto_headers: Default headers to leave out (``Name:`` items).
        body: The body: ``None``, bytes, or a payload (streamed).
        body_text: The body to show for ``--print B``: its text, or a note for a stream.
        auth: Basic auth from ``--auth``.
        timeout: From ``--timeout``/``--max-time`` (``None``: the library's default).
        connector: The connector (TCP with the TLS options, or Unix).
        proxy: From ``--proxy``.
        allow_redirects: From ``--follow``.
        max_redirects: From ``--max-redirects``.
        chunked: From ``--chunked`` (``None``: the connection's choice).
        expect100: From ``--expect-continue``.
        upload: The payload to report upload progress for (a file body), if any.
        upload_name: What the upload's progress bar says it sends (file names).
    """

    method: str
    url: URL
    params: list[tuple[str, str]] = field(default_factory=list)
    headers: CIMultiDict[str] = field(default_factory=CIMultiDict)
    skip_auto_headers: set[str] = field(default_factory=set)
    body: bytes | Payload | None = None
    body_text: str | None = None
    auth: BasicAuth | None = None
    timeout: ClientTimeout | None = None
    connector: Connector | None = None
    proxy: str | None = None
    allow_redirects: bool = False
    max_redirects: int = 10
    chunked: bool | None = None
    expect100: bool = False
    upload: Payload | None = None
    upload_name: str = "body"

    def session(self, *, auto_decompress: bool = True) -> ClientSession:
        """A session with this plan's connector, auth and timeout.

        Args:
            auto_decompress: Decode content codings (off for downloads, which save the
                representation as sent, so that a resumed range fits what is on disk).
        """
        return ClientSession(
            connector=self.connector,
            auth=self.auth,
            timeout=DEFAULT_TIMEOUT if self.timeout is None else self.timeout,
            auto_decompress=auto_decompress,
        )


def _open(path: str, item: str, stack: Stack) -> IO[bytes]:
    try:
        file = open(path, "rb")  # noqa: SIM115  # closed by the stack
    except OSError as exc:
        raise LocalFileError(f"cannot read {shown(path)} for {item}: {exc.strerror}") from None
    return stack.enter_context(file)


def _read_text(path: str, item: str) -> str:
    try:
        with open(path, encoding="utf-8") as file:
            return file.read()
    except OSError as exc:
        raise LocalFileError(f"cannot read {shown(path)} for {item}: {exc.strerror}") from None
    except UnicodeDecodeError as exc:
        raise LocalFileError(f"{shown(path)} for {item} is not UTF-8 text: {exc}") from None


def _field_value(item: Item) -> object:
    """The value a body field holds (files named by ``=@``/``:=@`` are read: small by nature)."""
    where = f"item {shown(item.text)}"
    if item.kind is ItemKind.DATA:
        return item.value
    if item.kind is ItemKind.DATA_FILE:
        return _read_text(item.value, where)
    if item.kind is ItemKind.JSON:
        return item.json_value()
    text = _read_text(item.value, where)
    try:
        return json.loads(text)
    except ValueError as exc:
        raise UsageError(f"{where}: {shown(item.value)} is not valid JSON: {exc}") from None


def _json_object(items: list[Item]) -> dict[str, object]:
    """The fields as one JSON object; a name given more than once becomes a list."""
    obj: dict[str, object] = {}
    repeated: set[str] = set()
    for item in items:
        value = _field_value(item)
        if item.key not in obj:
            obj[item.key] = value
        elif item.key in repeated:
            existing = obj[item.key]
            assert isinstance(existing, list)
            existing.append(value)
        else:
            obj[item.key] = [obj[item.key], value]
            repeated.add(item.key)
    return obj


def _file_part(item: Item, stack: Stack) -> FilePayload:
    path, content_type = item.value, None
    head, sep, tail = path.rpartition(";type=")
    if sep and tail:
        path, content_type = head, tail
    file = _open(path, f"item {shown(item.text)}", stack)
    return FilePayload(file, content_type=content_type, filename=os.path.basename(path))


def _file_name(item: Item) -> str:
    """The name of a ``field@file`` item's file, without a ``;type=`` suffix."""
    path, sep, tail = item.value.rpartition(";type=")
    return os.path.basename(path if sep and tail else item.value)


def _auth(text: str, ask: Callable[[str], str] | None) -> BasicAuth:
    user, colon, password = text.partition(":")
    if not user:
        raise UsageError("--auth: the user name is missing (write USER:PASSWORD)")
    if not colon:
        if ask is None:
            raise UsageError(
                f"--auth {shown(user)} has no password and there is no terminal to ask for it: "
                "write USER:PASSWORD (USER: for an empty one)"
            )
        password = ask(f"password for {user}: ")
    return BasicAuth(user, password, encoding="utf-8")


def _fingerprint(text: str) -> Fingerprint:
    try:
        digest = bytes.fromhex(text.replace(":", ""))
    except ValueError:
        raise UsageError(f"--fingerprint {shown(text)} is not hexadecimal") from None
    try:
        return Fingerprint(digest)
    except ValueError as exc:
        raise UsageError(f"--fingerprint: {exc}") from None


def _connector(options: Options) -> Connector:
    if options.unix_socket is not None:
        return UnixConnector(options.unix_socket)
    fingerprint = None if options.fingerprint is None else _fingerprint(options.fingerprint)
    context = None
    if options.cacert is not None:
        try:
            context = ssl.create_default_context(cafile=options.cacert)
        except (OSError, ssl.SSLError) as exc:
            reason = getattr(exc, "strerror", None) or str(exc)
            raise LocalFileError(
                f"cannot load CA certificates from --cacert {shown(options.cacert)}: {reason}"
            ) from None
    family = {4: socket.AF_INET, 6: socket.AF_INET6}.get(options.family or 0, 0)
    return TCPConnector(
        verify_ssl=options.verify, ssl_context=context, fingerprint=fingerprint, family=family
    )


def _body_from_data(
    options: Options,
    plan: RequestPlan,
    stack: Stack,
    content_type: str | None,
) -> None:
    data = options.data
    assert data is not None
    if data == "@-":
        payload: Payload = FilePayload(sys.stdin.buffer, content_type=content_type)
        plan.body, plan.body_text, plan.upload = payload, "(standard input, streamed)", payload
        plan.upload_name = "standard input"
    elif data.startswith("@"):
        path = data[1:]
        file = _open(path, f"--data {shown(data)}", stack)
        payload = FilePayload(file, content_type=content_type)
        plan.body, plan.upload = payload, payload
        plan.body_text = f"(the file {shown(path)}, {payload.size} bytes, streamed)"
        plan.upload_name = os.path.basename(path)
    else:
        text = StringPayload(data, content_type=content_type)
        plan.body, plan.body_text = text.value, data
        if content_type is None:
            plan.headers.setdefault("Content-Type", text.content_type)


def plan_request(
    options: Options,
    stack: Stack,
    *,
    ask_password: Callable[[str], str] | None = None,
) -> RequestPlan:
    """Turn the options into the request to send.

    Args:
        options: The parsed command line.
        stack: Where files opened for the body are registered, to be closed after the
            request.
        ask_password: Asks for a missing ``--auth`` password (``None``: no terminal).

    Returns:
        The plan.

    Raises:
        UsageError: An option's value is wrong (a fingerprint, a JSON file's content).
        LocalFileError: A file cannot be read.
    """
    plan = RequestPlan(method=options.method or "GET", url=URL(options.url))
    for item in options.items:
        if item.kind is ItemKind.PARAM:
            plan.params.append((item.key, item.value))
        elif item.kind is ItemKind.HEADER:
            if item.value:
                plan.headers.add(item.key, item.value)
            else:
                plan.skip_auto_headers.add(item.key)
        elif item.kind is ItemKind.EMPTY_HEADER:
            plan.headers.add(item.key, "")
    fields = [item for item in options.items if item.is_data]
    given_type = plan.headers.get("Content-Type")
    mode = options.body_mode
    if mode is None and fields:
        mode = "multipart" if any(f.kind is ItemKind.FILE for f in fields) else "json"

    if options.data is not None:
        implied = {"json": JSON_TYPE, "form": FORM_TYPE}.get(mode or "")
        _body_from_data(options, plan, stack, given_type or implied)
        if implied is not None and given_type is None:
            plan.headers["Content-Type"] = implied
    elif mode == "json" and fields:
        text = json.dumps(_json_object(fields), ensure_ascii=False)
        plan.body, plan.body_text = text.encode("utf-8"), text
        plan.headers.setdefault("Content-Type", JSON_TYPE)
    elif mode == "form" and fields and all(f.kind is not ItemKind.FILE for f in fields):
        form = payload_from([(f.key, str(_field_value(f))) for f in fields])
        assert isinstance(form, BytesPayload)  # plain fields are urlencoded bytes
        encoded = form.value
        plan.body, plan.body_text = encoded, encoded.decode("ascii")
        plan.headers.setdefault("Content-Type", FORM_TYPE)
    elif mode in ("form", "multipart") and fields:
        data = FormData()
        for f in fields:
            if f.kind is ItemKind.FILE:
                data.add_field(f.key, _file_part(f, stack))
            elif mode == "multipart":
                data.add_field(f.key, StringPayload(str(_field_value(f))))
            else:
                data.add_field(f.key, str(_field_value(f)))
        payload = data.build()
        plan.body, plan.upload = payload, payload
        plan.body_text = f"(multipart form, {payload.size} bytes, files streamed)"
        files = [_file_name(f) for f in fields if f.kind is ItemKind.FILE]
        plan.upload_name = ", ".join(files) if files else "form"
    if mode == "json":
        plan.headers.setdefault("Accept", JSON_ACCEPT)
    if options.method is None and plan.body is not None:
        plan.method = "POST"

    if options.auth is not None:
        plan.auth = _auth(options.auth, ask_password)
    if options.timeout is not None or options.max_time is not None:
        plan.timeout = DEFAULT_TIMEOUT
        if options.timeout is not None:
            plan.timeout = ClientTimeout(sock_connect=options.timeout, sock_read=options.timeout)
        plan.timeout = dataclasses.replace(plan.timeout, total=options.max_time)
    plan.connector = _connector(options)
    plan.proxy = options.proxy
    plan.allow_redirects = options.follow
    plan.max_redirects = options.max_redirects
    plan.chunked = True if options.chunked else None
    plan.expect100 = options.expect_continue
    return plan
