"""ClientTimeout and what a number means."""

from __future__ import annotations

import dataclasses
import math

import pytest

from httpwire.client import DEFAULT_TIMEOUT, ClientTimeout
from httpwire.client._timeout import as_timeout


def test_the_default_has_no_total() -> None:
    assert ClientTimeout(sock_connect=30, sock_read=300) == DEFAULT_TIMEOUT
    assert DEFAULT_TIMEOUT.total is None


def test_a_number_means_no_bytes_for_n_seconds() -> None:
    """The guide's warning: n seconds without a byte, not a limit on the download."""
    assert as_timeout(5, DEFAULT_TIMEOUT) == ClientTimeout(sock_connect=5, sock_read=5)
    assert as_timeout(0.5, DEFAULT_TIMEOUT).total is None


def test_none_means_the_session_default() -> None:
    own = ClientTimeout(total=3)
    assert as_timeout(None, own) is own


@pytest.mark.parametrize("value", [0, -1, math.inf, math.nan])
def test_limits_must_be_positive_and_finite(value: float) -> None:
    with pytest.raises(ValueError, match="total must be a positive finite number"):
        ClientTimeout(total=value)
    with pytest.raises(ValueError, match="timeout must be a positive finite number"):
        as_timeout(value, DEFAULT_TIMEOUT)


@pytest.mark.parametrize("value", ["5", True, [5]])
def test_limits_must_be_numbers(value: object) -> None:
    with pytest.raises(TypeError, match="sock_read must be a number"):
        ClientTimeout(sock_read=value)  # type: ignore[arg-type]  # the point of the test
    with pytest.raises(TypeError, match="timeout must be a ClientTimeout"):
        as_timeout(value, DEFAULT_TIMEOUT)  # type: ignore[arg-type]  # the point of the test


def test_timeouts_are_immutable_and_hashable() -> None:
    timeout = ClientTimeout(total=1)
    with pytest.raises(dataclasses.FrozenInstanceError):
        timeout.total = 2  # type: ignore[misc]  # the point of the test
    assert hash(timeout) == hash(ClientTimeout(total=1))
    assert dataclasses.replace(timeout, connect=2) == ClientTimeout(total=1, connect=2)
