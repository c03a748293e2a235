"""Digest authentication (RFC 7616): the computation, the challenge parser, the middleware.

The computation is checked against the RFCs' worked examples; the middleware against a
scripted server that checks each answer with its own computation and counts requests
(httpbin's digest endpoints are exercised by the integration tests).
"""

from __future__ import annotations

import asyncio
import hashlib
import pickle
import re
from collections.abc import AsyncIterator

import pytest
from multidict import CIMultiDict, CIMultiDictProxy
from tests.conftest import read_head
from yarl import URL

from httpwire.client import ClientResponse, RequestInfo, TCPConnector
from httpwire.client._digest import DigestAuth, DigestBodyError, DigestChallenge, parse_challenges
from httpwire.client._middleware import ClientRequest, Handler, compose
from httpwire.connectors import OutgoingRequest
from httpwire.streams import StreamReader
from httpwire_testserver import StartServer


def make_request(
    url: str, method: str = "GET", body: bytes | StreamReader | None = None
) -> ClientRequest:
    parsed = URL(url)
    return ClientRequest(method, parsed, CIMultiDictProxy(CIMultiDict()), body, parsed)


def sender(connector: TCPConnector) -> Handler:
    async def send(request: ClientRequest) -> ClientResponse:
        outgoing = OutgoingRequest(request.method, request.url, request.headers, request.body)
        conn = await connector.acquire(outgoing)
        raw = await conn.send(outgoing)
        return ClientResponse(raw, request.method, request.url, request.headers)

    return send


# -- the computation -------------------------------------------------------------------


def test_rfc2617_example() -> None:
    """RFC 2617 §3.5: MD5, qop=auth, the response its example gives."""
    challenge = DigestChallenge(
        realm="testrealm@host.com",
        nonce="dcd98b7102dd2f0e8b11d0f600bfb0c093",
        qop=("auth", "auth-int"),
        opaque="5ccc069c403ebaf9f0171e9517f40e41",
    )
    auth = DigestAuth("Mufasa", "Circle Of Life")
    value = auth.authorization(
        make_request("http://www.nowhere.org/dir/index.html"), challenge, 1, "0a4f113b"
    )
    assert 'response="6629fae49393a05397450978507c4ef1"' in value
    assert "nc=00000001" in value and 'cnonce="0a4f113b"' in value and "qop=auth," in value
    assert 'opaque="5ccc069c403ebaf9f0171e9517f40e41"' in value
    assert 'uri="/dir/index.html"' in value and 'username="Mufasa"' in value


@pytest.mark.parametrize(
    ("algorithm", "expected"),
    [
        ("MD5", "8ca523f5e9506fed4657c9700eebdbec"),
        ("SHA-256", "753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1"),
    ],
)
def test_rfc7616_example(algorithm: str, expected: str) -> None:
    """RFC 7616 §3.9.1: the same request answered with SHA-256 and with MD5."""
    challenge = DigestChallenge(
        realm="http-auth@example.org",
        nonce="7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v",
        algorithm=algorithm,
        qop=("auth", "auth-int"),
        opaque="FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS",
    )
    value = DigestAuth("Mufasa", "Circle of Life").authorization(
        make_request("http://www.example.org/dir/index.html"),
        challenge,
        1,
        "f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ",
    )
    assert f'response="{expected}"' in value
    assert f"algorithm={algorithm}," in value


def test_userhash_and_session_algorithm() -> None:
    """RFC 7616 §3.4.4: userhash sends H(username:realm); -sess folds nonce and cnonce in."""
    challenge = DigestChallenge(
        realm="api@example.org", nonce="n", algorithm="SHA-256-SESS", qop=("auth",), userhash=True
    )
    value = DigestAuth("Jason", "pw").authorization(
        make_request("http://example.org/doe.json"), challenge, 2, "c"
    )
    expected_user = hashlib.sha256(b"Jason:api@example.org").hexdigest()
    assert f'username="{expected_user}"' in value and "userhash=true" in value
    ha1 = hashlib.sha256(
        f"{hashlib.sha256(b'Jason:api@example.org:pw').hexdigest()}:n:c".encode()
    ).hexdigest()
    ha2 = hashlib.sha256(b"GET:/doe.json").hexdigest()
    response = hashlib.sha256(f"{ha1}:n:00000002:c:auth:{ha2}".encode()).hexdigest()
    assert f'response="{response}"' in value and "nc=00000002" in value


def test_non_ascii_login() -> None:
    """RFC 7616 §3.4.4 and RFC 8187: username* with charset=UTF-8; refused without it."""
    utf8 = DigestChallenge(realm="r", nonce="n", qop=("auth",), charset="UTF-8")
    value = DigestAuth("Jäsøn Doe", "pw").authorization(
        make_request("http://example.org/"), utf8, 1, "c"
    )
    assert "username*=UTF-8''J%C3%A4s%C3%B8n%20Doe" in value
    latin = DigestChallenge(realm="r", nonce="n", qop=("auth",))
    with pytest.raises(ValueError, match=r"charset=UTF-8 \(RFC 7616 §4\)"):
        DigestAuth("Jason 😀", "pw").authorization(
            make_request("http://example.org/"), latin, 1, "c"
        )


def test_auth_int_hashes_the_body_and_legacy_form() -> None:
    """RFC 7616 §3.4.3: qop=auth-int puts H(body) in HA2; RFC 2069 form without qop."""
    only_int = DigestChallenge(realm="r", nonce="n", qop=("auth-int",))
    value = DigestAuth("u", "p").authorization(
        make_request("http://h/x", "POST", b"body"), only_int, 1, "c"
    )

    def md5(data: bytes) -> str:
        return hashlib.md5(data).hexdigest()

    ha2 = md5(f"POST:/x:{md5(b'body')}".encode())
    expected = md5(f"{md5(b'u:r:p')}:n:00000001:c:auth-int:{ha2}".encode())
    assert f'response="{expected}"' in value and "qop=auth-int" in value
    with pytest.raises(ValueError, match="only qop=auth-int"):
        DigestAuth("u", "p").authorization(
            make_request("http://h/x", "POST", StreamReader()), only_int, 1, "c"
        )
    legacy = DigestChallenge(realm="r", nonce="n")
    value = DigestAuth("u", "p").authorization(make_request("http://h/x"), legacy, 1, "c")
    legacy_response = md5(f"{md5(b'u:r:p')}:n:{md5(b'GET:/x')}".encode())
    assert f'response="{legacy_response}"' in value
    assert "nc=" not in value and "cnonce" not in value


def test_unsupported_algorithm_is_an_error() -> None:
    challenge = DigestChallenge(realm="r", nonce="n", algorithm="SHA-1")
    assert not challenge.is_supported
    with pytest.raises(ValueError, match=r"'SHA-1'.*not supported"):
        DigestAuth("u", "p").authorization(make_request("http://h/"), challenge, 1, "c")


# -- the challenge parser --------------------------------------------------------------


def test_parse_several_challenges_in_fields() -> None:
    """RFC 9110 §11.6.1: several challenges per field, quoted commas, other schemes."""
    challenges = parse_challenges(
        [
            'Basic realm="a, b", Digest realm="x\\"y", nonce="abc", qop="auth,auth-int", '
            "algorithm=sha-256, stale=TRUE",
            'Negotiate dGVzdA==, Digest nonce=n2, realm=r2, opaque="o", userhash=true',
            'Digest realm="no nonce"',
        ]
    )
    assert [(c.realm, c.nonce) for c in challenges] == [('x"y', "abc"), ("r2", "n2")]
    first, second = challenges
    assert first.algorithm == "SHA-256" and first.qop == ("auth", "auth-int") and first.stale
    assert second.algorithm == "MD5" and second.opaque == "o" and second.userhash
    assert not second.stale


def test_parse_ignores_garbage_and_is_bounded() -> None:
    assert parse_challenges(["", ",,,", "Digest", "Digest =x", "Bearer"]) == []
    huge = 'Digest realm="r", nonce="' + "n" * 100_000 + '"'
    assert parse_challenges([huge]) == []  # cut at a bound: no complete challenge


# -- the middleware, against a scripted server -------------------------------------------


class DigestServer:
    """Answers 401 with a challenge until a request carries a valid answer to it."""

    def __init__(self, algorithm: str = "MD5", *, stale_first: bool = False) -> None:
        self.algorithm = algorithm
        self.nonce_number = 0
        self.stale_first = stale_first
        self.seen: list[tuple[str, str | None]] = []  # (target, Authorization)
        self.ncs: list[str] = []

    def nonce(self) -> str:
        return f"nonce{self.nonce_number}"

    def check(self, method: str, target: str, value: str) -> bool:
        params = dict(re.findall(r'(\w+)="?([^",]*)"?', value.removeprefix("Digest ")))
        digest = {"MD5": hashlib.md5, "SHA-256": hashlib.sha256}[self.algorithm]

        def h(text: str) -> str:
            return digest(text.encode()).hexdigest()

        if params.get("nonce") != self.nonce() or params.get("uri") != target:
            return False
        self.ncs.append(params["nc"])
        expected = h(
            f"{h('user:realm:passwd')}:{params['nonce']}:{params['nc']}:{params['cnonce']}"
            f":auth:{h(f'{method}:{target}')}"
        )
        return params.get("response") == expected

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while True:
            try:
                head = (await read_head(reader)).decode()
            except asyncio.IncompleteReadError:
                return
            lines = head.split("\r\n")
            method, target, _ = lines[0].split(" ")
            fields = {k.lower(): v for k, v in (line.split(": ", 1) for line in lines[1:] if line)}
            length = int(fields.get("content-length", "0"))
            if length:
                await reader.readexactly(length)
            elif fields.get("transfer-encoding") == "chunked":
                await reader.readuntil(b"0\r\n\r\n")
            authorization = fields.get("authorization")
            self.seen.append((target, authorization))
            if authorization is not None and self.check(method, target, authorization):
                if self.stale_first:
                    self.stale_first = False
                    self.nonce_number += 1
                    await self.challenge(writer, stale=True)
                    continue
                writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
            else:
                await self.challenge(writer, stale=False)

    async def challenge(self, writer: asyncio.StreamWriter, *, stale: bool) -> None:
        body = b"authenticate"
        value = (
            f'Digest realm="realm", nonce="{self.nonce()}", qop="auth", '
            f'algorithm={self.algorithm}, opaque="op"' + (", stale=true" if stale else "")
        )
        writer.write(
            f"HTTP/1.1 401 Unauthorized\r\nWWW-Authenticate: {value}\r\n"
            f"Content-Length: {len(body)}\r\n\r\n".encode()
            + body
        )
        await writer.drain()


@pytest.fixture
async def digest_url(raw_server: StartServer) -> AsyncIterator[tuple[str, DigestServer]]:
    server = DigestServer()
    yield await raw_server(server.handle), server


async def test_answers_a_challenge_then_goes_preemptive(
    digest_url: tuple[str, DigestServer], connector: TCPConnector
) -> None:
    base, server = digest_url
    chain = compose([DigestAuth("user", "passwd")], sender(connector))
    response = await chain(make_request(base + "/a"))
    assert response.status == 200 and await response.read() == b"ok"
    assert [a is None for _, a in server.seen] == [True, False]
    # The next request to the origin carries credentials at once, nc counting up.
    response = await chain(make_request(base + "/b?x=1"))
    assert response.status == 200
    await response.read()
    assert [t for t, _ in server.seen] == ["/a", "/a", "/b?x=1"]
    assert server.ncs == ["00000001", "00000002"]
    assert connector.stats().open == 1  # the 401's small body was read: one connection


@pytest.mark.parametrize("algorithm", ["MD5", "SHA-256"])
async def test_algorithms(
    raw_server: StartServer, connector: TCPConnector, algorithm: str
) -> None:
    server = DigestServer(algorithm)
    base = await raw_server(server.handle)
    chain = compose([DigestAuth("user", "passwd")], sender(connector))
    response = await chain(make_request(base + "/x"))
    assert response.status == 200
    await response.read()


async def test_wrong_password_returns_the_401_without_looping(
    digest_url: tuple[str, DigestServer], connector: TCPConnector
) -> None:
    base, server = digest_url
    auth = DigestAuth("user", "wrong")
    chain = compose([auth], sender(connector))
    response = await chain(make_request(base + "/a"))
    assert response.status == 401
    await response.read()
    assert len(server.seen) == 2  # the challenge, one answer: no loop
    # The refused space was forgotten: the next request waits for a challenge again.
    response = await chain(make_request(base + "/a"))
    await response.read()
    assert [a is None for _, a in server.seen] == [True, False, True, False]


async def test_stale_nonce_is_renewed(raw_server: StartServer, connector: TCPConnector) -> None:
    """RFC 7616 §3.3: stale=true means the nonce expired; the request is answered again."""
    server = DigestServer(stale_first=True)
    base = await raw_server(server.handle)
    chain = compose([DigestAuth("user", "passwd")], sender(connector))
    response = await chain(make_request(base + "/s"))
    assert response.status == 200
    await response.read()
    assert len(server.seen) == 3
    assert server.nonce() == "nonce1"


async def test_preemptive_with_an_old_nonce_answers_the_new_challenge(
    digest_url: tuple[str, DigestServer], connector: TCPConnector
) -> None:
    base, server = digest_url
    chain = compose([DigestAuth("user", "passwd")], sender(connector))
    await (await chain(make_request(base + "/a"))).read()
    server.nonce_number += 1  # the server forgot the nonce (without saying stale)
    response = await chain(make_request(base + "/b"))
    assert response.status == 200
    await response.read()
    assert len(server.seen) == 4  # challenge, answer, old-nonce answer, new answer


async def test_stream_body_cannot_answer_a_challenge(
    digest_url: tuple[str, DigestServer], connector: TCPConnector
) -> None:
    base, server = digest_url
    stream = StreamReader()
    stream.feed_data(b"data")
    stream.feed_eof()
    chain = compose([DigestAuth("user", "passwd")], sender(connector))
    with pytest.raises(DigestBodyError, match="cannot be sent twice") as info:
        await chain(make_request(base + "/up", "POST", stream))
    assert info.value.status == 401 and info.value.realm == "realm"
    assert len(server.seen) == 1


async def test_credentials_stay_with_the_initial_origin(
    digest_url: tuple[str, DigestServer], connector: TCPConnector
) -> None:
    """A server a redirect led to gets no answer to its challenge (it is another origin)."""
    base, server = digest_url
    other = URL(base).with_host("localhost")
    request = ClientRequest(
        "GET",
        other / "x",
        CIMultiDictProxy(CIMultiDict()),
        None,
        URL(base) / "start",  # the chain started at 127.0.0.1
    )
    chain = compose([DigestAuth("user", "passwd")], sender(connector))
    response = await chain(request)
    assert response.status == 401
    await response.read()
    assert len(server.seen) == 1
    # Unless the origin is listed.
    chain = compose([DigestAuth("user", "passwd", origins=[str(other)])], sender(connector))
    response = await chain(request)
    assert response.status == 200
    await response.read()


async def test_a_request_with_its_own_authorization_is_left_alone(
    digest_url: tuple[str, DigestServer], connector: TCPConnector
) -> None:
    base, server = digest_url
    chain = compose([DigestAuth("user", "passwd")], sender(connector))
    request = make_request(base + "/a").with_header("Authorization", "Bearer t")
    response = await chain(request)
    assert response.status == 401
    await response.read()
    assert server.seen == [("/a", "Bearer t")]


def test_repr_and_types() -> None:
    auth = DigestAuth("user", "s3cret")
    assert "s3cret" not in repr(auth)
    with pytest.raises(TypeError, match="must be str"):
        DigestAuth("user", b"pw")  # type: ignore[arg-type]  # the mistake the check is for


def test_body_error_pickles_and_names_the_request() -> None:
    request = make_request("http://user:pw@example.org/up", "POST")
    info = RequestInfo("POST", request.url, request.headers, request.url)
    error = DigestBodyError(info, status=401, realm="r")
    assert "POST http://example.org/up" in str(error) and "pw" not in str(error)
    again = pickle.loads(pickle.dumps(error))
    assert str(again) == str(error) and again.realm == "r" and again.status == 401
