"""The command's flow: parse, plan, send, show; and every failure turned into an exit code.

Strategy: :func:`main` is the only place that catches: a usage error, an error of the
client's tree, a local file error or Ctrl-C each end as one line on standard error (the
library's own message, never a traceback) and the exit code of :mod:`._exit`. Everything
the command writes goes to standard output (heads and bodies, or the ``--json-output``
document) or standard error (warnings, progress, timings, errors), so a pipe gets only
what was asked for.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import getpass
import json
import os
import sys
import time
from collections.abc import Sequence
from typing import IO

from yarl import URL

from httpwire.client import ClientError, ClientResponse, ClientSession

from ._args import Options, parse_args
from ._build import LocalFileError, RequestPlan, plan_request
from ._download import Download
from ._exit import ExitCode, exit_code_for_error, exit_code_for_status
from ._items import UsageError, shown, shown_url
from ._output import (
    PlainScreen,
    RichScreen,
    Screen,
    is_json_type,
    request_head_lines,
    response_head_lines,
    rich_available,
    write_body,
)
from ._progress import Transfer, make_display
from ._timings import timing_lines, timings_record

__all__ = ["main"]

_JSON_BODY_LIMIT = 64 * 1024 * 1024


def _error(message: str) -> None:
    """One line on standard error."""
    sys.stderr.write(f"httpwire: error: {' '.join(message.split())}\n")
    sys.stderr.flush()


def _note(message: str, options: Options | None = None) -> None:
    if options is not None and options.quiet:
        return
    sys.stderr.write(f"httpwire: {message}\n")
    sys.stderr.flush()


def _check_url(url: str) -> URL:
    try:
        parsed = URL(url)
    except (ValueError, TypeError) as exc:
        raise UsageError(f"URL {shown_url(url)} is not valid: {exc}") from None
    if parsed.scheme not in ("http", "https"):
        raise UsageError(f"URL {shown_url(url)}: the scheme must be http or https")
    if not parsed.raw_host:
        raise UsageError(f"URL {shown_url(url)} has no host")
    return parsed


class _Run:
    """One invocation: the options, the screen and what was measured."""

    def __init__(self, options: Options) -> None:
        self.options = options
        self.stdout_tty = sys.stdout.isatty()
        self.body_at: float | None = None
        self.upload = Transfer(make_display(sys.stderr, enabled=False))
        self.download = self.upload

    # -- choices ------------------------------------------------------------------------

    def print_letters(self) -> str:
        options = self.options
        if options.print_what is not None:
            return options.print_what
        if options.download:
            return "h" if sys.stderr.isatty() else ""
        return "hb" if self.stdout_tty and options.output is None else "b"

    def screen(self, stack: contextlib.AsyncExitStack) -> tuple[Screen, bool]:
        """Where the output goes, and whether bodies are formatted."""
        options = self.options
        stream: IO[bytes]
        to_terminal = self.stdout_tty
        to_file = options.output is not None and not options.download and options.output != "-"
        if to_file:
            assert options.output is not None
            try:
                stream = stack.enter_context(open(options.output, "wb"))  # noqa: SIM115
            except OSError as exc:
                raise LocalFileError(
                    f"cannot write {shown(options.output)}: {exc.strerror}"
                ) from None
            to_terminal = False
        elif options.download:
            stream = sys.stderr.buffer  # heads of a download go beside its progress
            to_terminal = sys.stderr.isatty()
        else:
            stream = sys.stdout.buffer
        pretty = options.pretty
        if pretty == "auto":
            pretty = "all" if to_terminal else "none"
        colors = pretty in ("all", "colors") and not to_file  # a file gets no escape codes
        formatted = pretty in ("all", "format")
        if colors and not rich_available():
            if options.pretty != "auto":
                raise UsageError(
                    f"--pretty {options.pretty} needs colours, which come with rich: "
                    "pip install 'httpwire-client[cli]'"
                )
            colors = False
        if colors:
            text_stream = sys.stderr if options.download else sys.stdout
            return RichScreen(stream, text_stream), formatted
        return PlainScreen(stream, is_terminal=to_terminal), formatted

    # -- the exchange -------------------------------------------------------------------

    async def run(self) -> ExitCode:
        options = self.options
        _check_url(options.url)
        async with contextlib.AsyncExitStack() as stack:
            plan = plan_request(options, stack)
            if plan.connector is not None:  # closed by the session; here if it never starts
                stack.push_async_callback(plan.connector.close)
            download = None
            if options.download:
                download = Download.prepare(options.output, plan.url, options.resume)
                plan.headers.setdefault("Accept-Encoding", "identity")
                wanted = download.range_header()
                if wanted is not None:
                    plan.headers["Range"] = wanted
            progress_on = not options.quiet and not options.json_output
            if plan.upload is not None:
                self.upload = Transfer(make_display(sys.stderr, enabled=progress_on))
            if download is not None:
                self.download = Transfer(make_display(sys.stderr, enabled=progress_on))
            screen, formatted = self.screen(stack)
            # Tracing on for the timings: every response then carries its phases.
            async with plan.session(auto_decompress=download is None) as session:
                return await self._exchange(session, plan, screen, formatted, download)

    async def _exchange(
        self,
        session: ClientSession,
        plan: RequestPlan,
        screen: Screen,
        formatted: bool,
        download: Download | None,
    ) -> ExitCode:
        options = self.options
        upload = self.upload
        if plan.upload is not None:
            upload.begin(f"uploading {plan.upload_name}")
        try:
            response = await session.request(
                plan.method,
                plan.url,
                params=plan.params or None,
                data=plan.body,
                headers=plan.headers,
                skip_auto_headers=plan.skip_auto_headers or None,
                allow_redirects=plan.allow_redirects,
                max_redirects=plan.max_redirects,
                proxy=plan.proxy,
                chunked=plan.chunked,
                expect100=plan.expect100,
                on_upload_progress=upload.events,
                on_download_progress=self.download.events,
            )
        except BaseException:
            upload.abort()
            raise
        # The upload's last report came before the response; one the server answered
        # early has none: what was sent is drawn either way.
        try:
            await upload.end(last_report_due=False)
        except BaseException:  # Ctrl-C right then: the response is let go all the same
            response.close()
            raise
        async with response:
            code = await self._show(response, plan, screen, formatted, download)
        # Released: the library has stamped the end of the body in the timings.
        if options.timings and not options.json_output:
            for line in timing_lines(response, self.body_at):
                sys.stderr.write(line + "\n")
            sys.stderr.flush()
        return code

    async def _show(
        self,
        response: ClientResponse,
        plan: RequestPlan,
        screen: Screen,
        formatted: bool,
        download: Download | None,
    ) -> ExitCode:
        options = self.options
        if options.json_output:
            return await self._json_output(response, plan, download)
        letters = self.print_letters()
        if "H" in letters:
            body_size = (
                len(plan.body)
                if isinstance(plan.body, bytes)
                else getattr(plan.body, "size", None)
            )
            screen.head(
                request_head_lines(response.request_info, body_size, plan.body is not None),
                request=True,
            )
        if "B" in letters and plan.body_text is not None:
            screen.text(plan.body_text + "\n\n")
        if "h" in letters:
            screen.head(response_head_lines(response), request=False)
        code = exit_code_for_status(response.status)
        if download is not None:
            code = await self._download(response, download, code)
        elif "b" in letters:
            await write_body(response, screen, pretty=formatted)
        screen.flush()
        self.body_at = time.monotonic()
        if code is not ExitCode.OK and ("h" not in letters or not screen.is_terminal):
            _note(f"warning: HTTP {response.status} {response.reason}", options)
        return code

    async def _download(
        self, response: ClientResponse, download: Download, code: ExitCode
    ) -> ExitCode:
        options = self.options
        if download.already_complete(response):
            download.finish_complete()
            _note(f"{download.name} was already complete", options)
            return ExitCode.OK
        if 300 <= response.status < 400:
            location = response.headers.get("Location", "")
            _note(
                f"warning: HTTP {response.status} {response.reason}: nothing saved; add "
                f"--follow to download from {shown_url(location)}",
                options,
            )
        if not 200 <= response.status < 300:
            return code
        if download.offset and response.status == 200:
            _note(
                "the server sent the whole body again (it does not resume): starting over",
                options,
            )
        try:
            await download.save(response, self.download)
        except BaseException:
            note = download.kept_note()
            if note is not None:
                _note(note)
            raise
        _note(download.summary(), options)
        return code

    async def _json_output(
        self, response: ClientResponse, plan: RequestPlan, download: Download | None
    ) -> ExitCode:
        code = exit_code_for_status(response.status)
        body: dict[str, object] | None = None
        if download is not None:
            code = await self._download(response, download, code)
        else:
            pieces: list[bytes] = []
            size = 0
            truncated = False
            while piece := await response.content.readany():
                size += len(piece)
                if size <= _JSON_BODY_LIMIT:
                    pieces.append(piece)
                else:
                    truncated = True
            data = b"".join(pieces)
            del pieces
            body = {"bytes": size, "truncated": truncated}
            body.update(_body_value(data, response))
        self.body_at = time.monotonic()
        info = response.request_info
        document = {
            "request": {
                "method": info.method,
                "url": str(info.url),
                "headers": [[k, v] for k, v in info.headers.items()],
            },
            "response": {
                "status": response.status,
                "reason": response.reason,
                "http_version": f"{response.version.major}.{response.version.minor}",
                "url": str(response.url),
                "headers": [
                    [k.decode("utf-8", "replace"), v.decode("utf-8", "replace")]
                    for k, v in response.raw_headers
                ],
                "history": [
                    {"status": hop.status, "url": str(hop.url)} for hop in response.history
                ],
                "body": body,
            },
            "download": None
            if download is None
            else {
                "path": download.name,
                "bytes": download.offset + download.written,
                "resumed_from": download.offset if download.resumed else None,
                "complete": download.complete,
            },
            "timings": timings_record(response, self.body_at),
            "exit_code": int(code),
        }
        sys.stdout.write(json.dumps(document, indent=2, ensure_ascii=False) + "\n")
        return code


def _body_value(data: bytes, response: ClientResponse) -> dict[str, object]:
    import base64

    charset = response.charset
    if is_json_type(response.content_type):
        try:
            return {"json": json.loads(data.decode(charset or "utf-8"))}
        except (ValueError, LookupError):
            pass
    try:
        return {"text": data.decode(charset or "utf-8")}
    except (UnicodeDecodeError, LookupError):
        return {"base64": base64.b64encode(data).decode("ascii")}


def _with_password(options: Options) -> Options:
    """Ask for a missing ``--auth`` password now, before the event loop runs."""
    auth = options.auth
    if auth is None or ":" in auth or not sys.stdin.isatty():
        return options  # complete, absent, or no terminal: plan_request says what is wrong
    password = getpass.getpass(f"password for {auth}: ")
    return dataclasses.replace(options, auth=f"{auth}:{password}")


def _json_error(options: Options | None, error: BaseException, code: ExitCode) -> None:
    if options is None or not options.json_output:
        return
    document = {
        "error": {"type": type(error).__name__, "message": str(error)},
        "exit_code": int(code),
    }
    sys.stdout.write(json.dumps(document, indent=2, ensure_ascii=False) + "\n")


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``httpwire`` command.

    Args:
        argv: The arguments, without the program name (default: ``sys.argv[1:]``).

    Returns:
        The exit code (see ``httpwire --help``).
    """
    args = sys.argv[1:] if argv is None else list(argv)
    options: Options | None = None
    try:
        options = _with_password(parse_args(args))
        return int(asyncio.run(_Run(options).run()))
    except UsageError as exc:
        if options is None:
            sys.stderr.write("usage: httpwire [OPTIONS] [METHOD] URL [ITEM ...]\n")
        _error(str(exc))
        _json_error(options, exc, ExitCode.USAGE)
        return ExitCode.USAGE
    except (ClientError, LocalFileError, OSError, ValueError) as exc:
        if isinstance(exc, BrokenPipeError):
            return _broken_pipe()
        code = exit_code_for_error(exc)
        _error(str(exc) or type(exc).__name__)
        _json_error(options, exc, code)
        return code
    except KeyboardInterrupt:
        _error("interrupted")
        return ExitCode.INTERRUPTED


def _broken_pipe() -> int:
    """Standard output was closed by its reader (``| head``): stop quietly."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
    return ExitCode.OK
