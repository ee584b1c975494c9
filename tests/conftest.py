import pytest

from assistant import Assistant


@pytest.fixture(scope="session")
def assistant():
    return Assistant.load(rebuild="never")


@pytest.fixture(scope="session")
def live_url():
    """URL of a real `exoqa serve` on a free loopback port (tests/live_server.py); stopped after the session."""
    from live_server import live_server

    with live_server() as url:
        yield url
